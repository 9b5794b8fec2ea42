"""Names of a package imported from their modules on first use, not with the package.

For packages whose names pull in heavy modules (the database layer, the job engine) that light commands
(``crmpm --help``, ``crmpm xer schedule``) never use: the package sets ``__getattr__ = lazy_names(...)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module

__all__ = ["lazy_names"]


def lazy_names(package: str, homes: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name of ``homes`` is imported from the module it maps to
    when first asked for, then kept as an ordinary attribute (so ``monkeypatch`` restores it as one)."""

    def __getattr__(name: str):
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
