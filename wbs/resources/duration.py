"""P6's duration types: which of units, units per hour and duration an assignment recomputes when one changes.

Pure, no database. An assignment works ``units`` hours of effort at ``units_per_hour`` (1.0 is one person full
time) over ``duration`` hours of working time, so ``units = units_per_hour × duration`` always holds; when one
of the three is changed, the activity's duration type (``wbs.resources.models.DURATION_TYPES``) says which of
the other two gives way:

=================================  ================  ================  ================
duration type (what stays fixed)    duration changed  units changed     units/h changed
=================================  ================  ================  ================
fixed_duration_and_units_time       units             units/h           units
fixed_duration_and_units            units/h           units/h           units
fixed_units                         units/h           duration          duration
fixed_units_time                    units             duration          duration
=================================  ================  ================  ================

(P6's table: with a fixed duration a change of units cannot move the duration, so the rate gives way; a change
of the rate under fixed duration and units moves the units, as in P6, since duration and rate decide them.)
"""

from __future__ import annotations

from typing import NamedTuple

from wbs.resources.models import DURATION_TYPES

__all__ = ["CHANGES", "Work", "duration_for", "rate_for", "recompute", "units_for"]

CHANGES = ("duration", "units", "units_per_hour")


class Work(NamedTuple):
    """An assignment's effort (hours), rate (units per hour) and duration (working hours)."""

    units: float
    units_per_hour: float
    duration: float


def units_for(units_per_hour: float, duration: float) -> float:
    """The units worked at ``units_per_hour`` over ``duration`` hours.

    >>> units_for(0.5, 40.0)  # half time over a 40-hour week
    20.0
    """
    return units_per_hour * duration


def rate_for(units: float, duration: float, *, otherwise: float) -> float:
    """The units per hour that work ``units`` in ``duration`` hours; ``otherwise`` for a zero duration
    (a milestone has no rate to speak of).

    >>> rate_for(60.0, 40.0, otherwise=1.0)  # 60 hours of effort in a 40-hour week: 1.5 people
    1.5
    >>> rate_for(8.0, 0.0, otherwise=1.0)
    1.0
    """
    return units / duration if duration > 0 else otherwise


def duration_for(units: float, units_per_hour: float, *, otherwise: float) -> float:
    """The working hours ``units`` take at ``units_per_hour``; ``otherwise`` at a zero rate.

    >>> duration_for(30.0, 0.75, otherwise=8.0)  # 30 hours of effort at three quarters of a person
    40.0
    >>> duration_for(30.0, 0.0, otherwise=8.0)
    8.0
    """
    return units / units_per_hour if units_per_hour > 0 else otherwise


def recompute(duration_type: str, before: Work, changed: str, value: float) -> Work:
    """The assignment's work after ``changed`` (one of ``CHANGES``) took ``value``, under ``duration_type``.

    Worked by hand: 40 hours at 1.0 over 40 hours.

    >>> start = Work(units=40.0, units_per_hour=1.0, duration=40.0)

    Fixed duration and units/time, the duration becomes 24 h: the rate stays, so 1.0 × 24 = 24 units.

    >>> recompute("fixed_duration_and_units_time", start, "duration", 24.0)
    Work(units=24.0, units_per_hour=1.0, duration=24.0)

    Fixed duration and units, the units become 60: the duration stays, so the rate is 60 / 40 = 1.5.

    >>> recompute("fixed_duration_and_units", start, "units", 60.0)
    Work(units=60.0, units_per_hour=1.5, duration=40.0)

    Fixed units, the rate becomes 0.5: the units stay, so the duration is 40 / 0.5 = 80 h.

    >>> recompute("fixed_units", start, "units_per_hour", 0.5)
    Work(units=40.0, units_per_hour=0.5, duration=80.0)

    Fixed units/time, the units become 20: the rate stays, so the duration is 20 / 1.0 = 20 h.

    >>> recompute("fixed_units_time", start, "units", 20.0)
    Work(units=20.0, units_per_hour=1.0, duration=20.0)
    """
    if duration_type not in DURATION_TYPES:
        raise ValueError(f"unknown duration type {duration_type!r}")
    if changed not in CHANGES:
        raise ValueError(f"unknown change {changed!r}")
    units, rate, duration = before
    if changed == "duration":
        duration = value
        if duration_type in ("fixed_duration_and_units_time", "fixed_units_time"):
            units = units_for(rate, duration)
        else:
            rate = rate_for(units, duration, otherwise=rate)
    elif changed == "units":
        units = value
        if duration_type in ("fixed_duration_and_units_time", "fixed_duration_and_units"):
            rate = rate_for(units, duration, otherwise=rate)
        else:
            duration = duration_for(units, rate, otherwise=duration)
    else:
        rate = value
        if duration_type in ("fixed_duration_and_units_time", "fixed_duration_and_units"):
            units = units_for(rate, duration)
        else:
            duration = duration_for(units, rate, otherwise=duration)
    return Work(units=units, units_per_hour=rate, duration=duration)
