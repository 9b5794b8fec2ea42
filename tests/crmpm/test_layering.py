"""Imports flow one way: api → accounts → wbs → eps → crmpm; nothing imports a layer above it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package may import the packages listed after it, and itself.
LAYERS = ["web", "api", "accounts", "wbs", "eps", "crmpm"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", [name for name in LAYERS if (ROOT / name).is_dir()])
def test_no_import_reaches_up(package):
    above = set(LAYERS[: LAYERS.index(package)])
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        reached = _imports(path) & above
        if reached:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(reached)}")
    assert not offenders, "\n".join(offenders)
