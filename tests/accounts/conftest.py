"""Shared paths for the CRM import tests."""

from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
# In CI the repository is cloned into some folder and shared/ is copied beside it.
_ZOHO_DIR = _REPO.parent / "shared" / "fixtures" / "crm" / "zoho"


@pytest.fixture
def zoho_dir() -> Path:
    """The real Zoho CRM export (read-only)."""
    if not _ZOHO_DIR.is_dir():
        pytest.skip(f"Zoho fixtures not found at {_ZOHO_DIR}")
    return _ZOHO_DIR


@pytest.fixture
def zoho_mapping_dir() -> Path:
    """The shipped mapping files for the Zoho export."""
    return _REPO / "accounts" / "csvio" / "mappings" / "zoho"


@pytest.fixture
def test_mapping_dir() -> Path:
    """Mapping files used by these tests, named KIND_variant.json."""
    return Path(__file__).resolve().parent / "mappings"
