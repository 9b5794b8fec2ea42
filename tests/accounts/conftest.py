"""Shared paths for the CRM import tests."""

from pathlib import Path

import pytest

from tests.corpus import corpus_path

_REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def zoho_dir() -> Path:
    """The real Zoho CRM export (read-only), from the external corpus: it states no licence, so it is not
    in the repository; skipped when the corpus is absent, failing under CI=true (see tests/corpus.py)."""
    return corpus_path("crm", "zoho")


@pytest.fixture
def zoho_mapping_dir() -> Path:
    """The shipped mapping files for the Zoho export."""
    return _REPO / "accounts" / "csvio" / "mappings" / "zoho"


@pytest.fixture
def test_mapping_dir() -> Path:
    """Mapping files used by these tests, named KIND_variant.json."""
    return Path(__file__).resolve().parent / "mappings"
