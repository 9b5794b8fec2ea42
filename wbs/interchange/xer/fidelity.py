"""P6's own results in an XER file as the reference a schedule is checked against: one rule, used by the
golden tests and by ``bench/bench_p6_fidelity.py`` alike.

The rule: for every activity of TASK whose ``status_code`` is not ``TK_Complete`` and which P6 dated
(``early_start_date`` filled), the early and late start and finish (``early_start_date``,
``early_end_date``, ``late_start_date``, ``late_end_date``) must be reproduced to the minute and the total
float (``total_float_hr_cnt``, an empty value meaning 0) to within 0.01 h. Completed activities are left
out because P6 gives them no remaining dates or floats to reproduce.

Dates to check may be :class:`datetime.datetime` or text in ``YYYY-MM-DD HH:MM`` (or ``YYYY-MM-DDTHH:MM``,
as ``crmpm xer schedule`` prints them); a missing value never matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple

__all__ = ["DATE_COLUMNS", "FIELDS", "FLOAT_TOLERANCE_HOURS", "Mismatch", "compared", "is_compared", "mismatches"]

# Our field name -> TASK column holding P6's value.
DATE_COLUMNS = (
    ("early_start", "early_start_date"),
    ("early_finish", "early_end_date"),
    ("late_start", "late_start_date"),
    ("late_finish", "late_end_date"),
)
FIELDS = tuple(field for field, _ in DATE_COLUMNS) + ("total_float_hours",)
FLOAT_TOLERANCE_HOURS = 0.01


class Mismatch(NamedTuple):
    """One field of one activity that differs from P6's: its code, the field, our value and P6's, as text."""

    code: str
    field: str
    ours: str
    p6: str

    def __str__(self) -> str:
        return f"{self.code} {self.field}: ours {self.ours}, P6 {self.p6}"


def is_compared(row: Mapping[str, str]) -> bool:
    """Whether the rule compares this TASK row: not complete, and dated by P6."""
    return row.get("status_code") != "TK_Complete" and bool(row.get("early_start_date"))


def compared(rows: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """The TASK rows the rule compares (:func:`is_compared`)."""
    return [row for row in rows if is_compared(row)]


def _minute(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).replace("T", " ")[:16]


def _hours(value) -> float | None:
    if value in (None, ""):
        return None
    return float(value)


def mismatches(row: Mapping[str, str], *, early_start, early_finish, late_start, late_finish,
               total_float_hours) -> list[Mismatch]:
    """How one activity's dates and total float differ from P6's in its TASK ``row`` (empty: they match)."""
    ours = {"early_start": early_start, "early_finish": early_finish, "late_start": late_start,
            "late_finish": late_finish}
    code = row.get("task_code", "")
    out = [Mismatch(code, field, _minute(ours[field]) or "-", row[column])
           for field, column in DATE_COLUMNS if _minute(ours[field]) != row[column]]
    theirs = _hours(row.get("total_float_hr_cnt")) or 0.0
    mine = _hours(total_float_hours)
    if mine is None or abs(mine - theirs) > FLOAT_TOLERANCE_HOURS:
        out.append(Mismatch(code, "total_float_hours", "-" if mine is None else f"{mine:.2f}",
                            row.get("total_float_hr_cnt", "")))
    return out
