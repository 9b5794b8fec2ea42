"""What reading and writing MSPDI share: its codes, the limits on untrusted values, the value formats."""

from __future__ import annotations

import datetime as _dt
import re
from decimal import ROUND_HALF_UP, Decimal

from wbs.scheduling.model import ConstraintType, RelationshipType

__all__ = ["MspdiError", "NAMESPACE", "format_duration", "parse_duration"]

NAMESPACE = "http://schemas.microsoft.com/project"
CRMPM_ALIAS = "crmpm"
TEXT1_FIELD_ID = "188743731"  # Project's task custom field Text1
# In crmpm's field of a task: the links beyond the one MS Project holds per pair of tasks.
EXTRA_LINKS = "extra_links"
CENT = Decimal("0.01")
# Exception days one calendar may expand to (about 55 years): a guard against
# a hostile file's "every day for ten thousand years".
MAX_EXCEPTION_DAYS = 20_000
MAX_HOURS = 1_000_000.0  # as wbs.services.MAX_HOURS: about 114 years of round-the-clock work
YEARS = range(1900, 2200)

LINK_TYPES = {0: RelationshipType.FF, 1: RelationshipType.FS, 2: RelationshipType.SF, 3: RelationshipType.SS}
LINK_CODES = {v: k for k, v in LINK_TYPES.items()}
PERCENT_LAG_FORMATS = {19, 20, 51, 52}
HOURS_LAG_FORMAT = 5
DAYS_DURATION_FORMAT = 7
# Project's constraint codes; 2 and 3 are hard in Project (they override links when
# constraints are honoured), like P6's mandatory start and finish.
CONSTRAINT_CODES = {
    None: 0,
    ConstraintType.AS_LATE_AS_POSSIBLE: 1,
    ConstraintType.START_ON: 2,
    ConstraintType.MANDATORY_START: 2,
    ConstraintType.FINISH_ON: 3,
    ConstraintType.MANDATORY_FINISH: 3,
    ConstraintType.START_ON_OR_AFTER: 4,
    ConstraintType.START_ON_OR_BEFORE: 5,
    ConstraintType.FINISH_ON_OR_AFTER: 6,
    ConstraintType.FINISH_ON_OR_BEFORE: 7,
}
SOFT_CONSTRAINTS = {1: ConstraintType.AS_LATE_AS_POSSIBLE, 4: ConstraintType.START_ON_OR_AFTER,
                    5: ConstraintType.START_ON_OR_BEFORE, 6: ConstraintType.FINISH_ON_OR_AFTER,
                    7: ConstraintType.FINISH_ON_OR_BEFORE}

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


class MspdiError(ValueError):
    """A file that is not usable MSPDI; the message names the element, task UID and line where known."""

    def __init__(self, message: str, *, element: str | None = None, uid: str | int | None = None,
                 line: int | None = None):
        self.message, self.element, self.uid, self.line = message, element, uid, line
        where = ", ".join(part for part in (
            element and (f"{element} UID {uid}" if uid is not None else element),
            line and f"line {line}") if part)
        super().__init__(f"{message} ({where})" if where else message)


# Values


def parse_duration(text: str) -> float:
    """Hours in an xsd:duration as Project writes it (``PT8H0M0S``); days count 24 hours.

    >>> parse_duration("PT7H30M0S")
    7.5
    """
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration like PT8H0M0S")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 24 + parts["h"] + parts["m"] / 60 + parts["s"] / 3600


def format_duration(hours: float) -> str:
    """``PT#H#M#S`` for a number of hours, to the second.

    >>> format_duration(7.5)
    'PT7H30M0S'
    """
    seconds = max(0, round(float(hours) * 3600))
    return f"PT{seconds // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


def format_date(value: _dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def format_time(minutes: int) -> str:
    minutes %= 1440  # midnight at the end of a day is written 00:00:00, as Project does
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def format_money(value: Decimal) -> str:
    return str((Decimal(value) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def format_number(value: float) -> str:
    value = round(float(value), 6)
    return str(int(value)) if value == int(value) else repr(value)
