"""The P6 XER fixtures by name: :func:`xer_path` finds a file in ``tests/fixtures/xer`` (redistributable,
always there) or in the external corpus (skipped when absent; see :mod:`tests.corpus`)."""

from __future__ import annotations

from tests.corpus import IN_REPO, corpus_path, xer_path

__all__ = ["xer_path", "corpus_path", "GOLDEN", "MORE_REAL", "IN_REPO_XER", "LAG_CALENDAR_FILES", "ALL_XER"]

# P6's stored dates reproduced to the minute (tests/wbs/test_sched_golden.py); in the external corpus.
GOLDEN = (
    "sample-52.xer",
    "updates-BL-54069-B2-20250902.xer",
    "updates-UP-54069-20251121.xer",
    "updates-UP-54069-20251204.xer",
    "updates-UP-54069-20251218.xer",
    "updates-UP-54069-20260122.xer",
)
# Real files P6 scheduled with options or data the GOLDEN files do not exercise (test_sched_golden.py
# says which of their stored dates cannot come from their own data); in the repository.
MORE_REAL = ("options-695.xer", "alap-harbour-131.xer", "three-projects-134.xer")
LAG_CALENDAR_FILES = (
    "lagcal-PredecessorCalendar.xer",
    "lagcal-ProjectDefaultCalendar.xer",
    "lagcal-SuccessorCalendar.xer",
    "lagcal-TwentyFourHourCalendar.xer",
)
# The repository's own XER files (tests/fixtures/xer), for tests that need some real file.
IN_REPO_XER = tuple(sorted(path.name for path in (IN_REPO / "xer").glob("*.xer")))
# Every real XER file known: the repository's and the corpus's.
ALL_XER = tuple(sorted(set(IN_REPO_XER) | set(GOLDEN)))
