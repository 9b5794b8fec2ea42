"""Where the test fixtures live: in the repository, or in the external corpus directory.

* ``tests/fixtures/`` holds the fixtures crmpm may redistribute (see ``tests/fixtures/xer/README.md``
  for each file's provenance and licence): a bare ``git clone`` has them.
* The external corpus, ``CRMPM_FIXTURES_DIR`` (default ``../shared/fixtures`` beside the repository),
  holds the rest: real files that state no licence (the P6 files sample-52 and updates-*, the Zoho CRM
  export). A test that needs one of them is skipped with the reason when the corpus is absent, and
  fails instead under ``CI=true``, where the corpus is part of the set-up. The pytest header says
  which corpus is used, or that it is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_REPO = REPO / "tests" / "fixtures"


def corpus_dir() -> Path:
    """The external corpus directory: ``CRMPM_FIXTURES_DIR``, else ``../shared/fixtures`` beside the repository."""
    configured = os.environ.get("CRMPM_FIXTURES_DIR")
    return Path(configured).expanduser().resolve() if configured else REPO.parent / "shared" / "fixtures"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_reason() -> str | None:
    """Why the external corpus cannot be used, or None when it is there."""
    folder = corpus_dir()
    if not folder.is_dir():
        return f"the external fixture corpus {folder} is absent (set CRMPM_FIXTURES_DIR to its directory)"
    return None


def report_header() -> str:
    """The line pytest prints in its header about the corpus."""
    reason = missing_reason()
    if reason:
        return (f"NOTE: {reason}; tests that need it will be skipped"
                + (" (CI: failing)" if in_ci() else ""))
    return f"external fixture corpus: {corpus_dir()}"


def corpus_path(*parts: str) -> Path:
    """A file or folder of the external corpus; skips the calling test when it is absent (fails under CI=true)."""
    path = corpus_dir().joinpath(*parts)
    if not path.exists():
        reason = missing_reason() or f"{path} is not in the external fixture corpus"
        if in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def xer_path(name: str) -> Path:
    """An XER fixture: the repository's copy when it has one, else the external corpus's."""
    local = IN_REPO / "xer" / name
    return local if local.is_file() else corpus_path("xer", name)


def require_soffice() -> str:
    """LibreOffice's ``soffice`` for tests of PDFs made by a real tool: skipped with a note when it is missing,
    failed when it is missing under CI (``make office`` installs it)."""
    found = shutil.which("soffice")
    if found is None:
        reason = "NOTE: LibreOffice (soffice) is not installed: PDFs made by a real tool are not tested"
        if in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return found
