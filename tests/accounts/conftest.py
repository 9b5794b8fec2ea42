"""Shared paths for the CRM import tests."""

from pathlib import Path

import pytest

# In CI the repository is cloned into some folder and shared/ is copied beside it.
ZOHO_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "crm" / "zoho"
ZOHO_MAPPINGS = Path(__file__).resolve().parents[2] / "accounts" / "csvio" / "mappings" / "zoho"
TEST_MAPPINGS = Path(__file__).resolve().parent / "mappings"


@pytest.fixture
def zoho_dir() -> Path:
    if not ZOHO_DIR.is_dir():
        pytest.skip(f"Zoho fixtures not found at {ZOHO_DIR}")
    return ZOHO_DIR
