"""Shared test helpers for the WBS scheduling tests."""

import sys
from pathlib import Path

# The helper module sits beside this file; make it importable whatever the
# pytest import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
