"""Where the shared P6 XER fixtures live: ``<repo>/../shared/fixtures/xer``."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "xer"

GOLDEN = (
    "sample-52.xer",
    "updates-BL-54069-B2-20250902.xer",
    "updates-UP-54069-20251121.xer",
    "updates-UP-54069-20251204.xer",
    "updates-UP-54069-20251218.xer",
    "updates-UP-54069-20260122.xer",
)
LAG_CALENDAR_FILES = (
    "lagcal-PredecessorCalendar.xer",
    "lagcal-ProjectDefaultCalendar.xer",
    "lagcal-SuccessorCalendar.xer",
    "lagcal-TwentyFourHourCalendar.xer",
)
