"""Date constraints: read once into bounds, applied by both passes.

Each activity's constraints (primary, secondary), external dates (links to
activities in other projects), resume date and expected finish become one
:class:`Bounds`.  The forward pass reads its ``early_*`` side, the backward
pass its ``late_*`` side, both through :func:`window` and :func:`pin`.

The rules (P6's):

* start/finish *on or after* push the early dates later; *on or before*
  pull the late dates earlier; *on* does both;
* *mandatory* start/finish pin the dates even against logic (the forward
  pass never before the data date);
* start constraints bind only work not yet started;
* an external early start acts like start-on-or-after, an external late
  finish like finish-on-or-before; a suspended activity's remaining work
  waits for its resume date;
* *as late as possible* is applied after the floats (see
  :mod:`wbs.scheduling.floats`); *expected finish* sets the remaining
  duration in the forward pass.
"""

from __future__ import annotations

from wbs.scheduling.calendars import to_minutes
from wbs.scheduling.errors import ScheduleInputError
from wbs.scheduling.model import ConstraintType

__all__ = ["Bounds", "read_bounds", "window", "pin"]

# Which bounds each constraint sets, keyed by the enum *values* (a plain
# string works too).  Early bounds keep the latest date, late bounds the
# earliest, mandatory dates the last one given.
_SETS = {
    ConstraintType.START_ON_OR_AFTER.value: ("early_start",),
    ConstraintType.START_ON.value: ("early_start", "late_start"),
    ConstraintType.START_ON_OR_BEFORE.value: ("late_start",),
    ConstraintType.FINISH_ON_OR_AFTER.value: ("early_finish",),
    ConstraintType.FINISH_ON.value: ("early_finish", "late_finish"),
    ConstraintType.FINISH_ON_OR_BEFORE.value: ("late_finish",),
    ConstraintType.MANDATORY_START.value: ("mandatory_start",),
    ConstraintType.MANDATORY_FINISH.value: ("mandatory_finish",),
}
_ON_START = frozenset({"early_start", "late_start", "mandatory_start"})
_ALAP = ConstraintType.AS_LATE_AS_POSSIBLE.value


def _value(member):
    return getattr(member, "_value_", member)


class Bounds:
    """One activity's constraints, as minutes (None: no bound)."""

    __slots__ = ("early_start", "early_finish", "late_start", "late_finish", "mandatory_start",
                 "mandatory_finish", "expected_finish", "as_late_as_possible")

    def __init__(self):
        self.early_start = self.early_finish = self.late_start = self.late_finish = None
        self.mandatory_start = self.mandatory_finish = self.expected_finish = None
        self.as_late_as_possible = False

    def _add(self, name, t):
        old = getattr(self, name)
        if old is None or name.startswith("mandatory") or (t > old if name.startswith("early") else t < old):
            setattr(self, name, t)


def _constraint_list(a, label):
    """``[(type value, minute or None)]`` of the primary and secondary constraints."""
    found = []
    if a.constraint is not None:
        if a.constraint_date is None and a.constraint != ConstraintType.AS_LATE_AS_POSSIBLE:
            raise ScheduleInputError(f"constraint {_value(a.constraint)} without a date", label)
        found.append((_value(a.constraint), to_minutes(a.constraint_date) if a.constraint_date is not None else None))
    if a.secondary_constraint is not None:
        if a.secondary_constraint_date is None:
            raise ScheduleInputError("secondary constraint without a date", label)
        found.append((_value(a.secondary_constraint), to_minutes(a.secondary_constraint_date)))
    return found


def read_bounds(a, label, not_started, use_expected):
    """The :class:`Bounds` of activity ``a``."""
    b = Bounds()
    for ctype, t in _constraint_list(a, label):
        if ctype == _ALAP:
            b.as_late_as_possible = True
        for name in _SETS.get(ctype, ()):
            if not_started or name not in _ON_START:
                b._add(name, t)
    early = a.external_early_start
    if a.resume_date is not None and a.actual_start is not None and a.actual_finish is None:
        early = a.resume_date if early is None or a.resume_date > early else early
    if early is not None:
        b._add("early_start", to_minutes(early))
    if a.external_late_finish is not None:
        b._add("late_finish", to_minutes(a.external_late_finish))
    if use_expected and a.expected_finish is not None:
        b.expected_finish = to_minutes(a.expected_finish)
    return b


def _tighten(t, w, bound, later):
    """``(t, w)`` moved to ``bound`` when the bound is tighter (its clock reading then unknown)."""
    if bound is None or (t is not None and (bound <= t if later else bound >= t)):
        return t, w
    return bound, None


def window(b, early, start, wstart, finish, wfinish):
    """The candidate dates ``(start, wstart, finish, wfinish)`` of a pass, within the bounds.

    ``early``: the forward pass (push later), else the backward pass (pull
    earlier).  ``w*`` are clock readings, None when not known.
    """
    if early:
        start, wstart = _tighten(start, wstart, b.early_start, True)
        finish, wfinish = _tighten(finish, wfinish, b.early_finish, True)
    else:
        start, wstart = _tighten(start, wstart, b.late_start, False)
        finish, wfinish = _tighten(finish, wfinish, b.late_finish, False)
    return start, wstart, finish, wfinish


def pin(b, finish_first):
    """``(minute, is_finish)`` of the mandatory date pinning the activity, or None.

    With both a mandatory start and finish, a pass takes the one it places
    first: the forward pass the start (the finish for a finish milestone),
    the backward pass the finish.
    """
    s, f = b.mandatory_start, b.mandatory_finish
    if f is not None and (finish_first or s is None):
        return f, True
    if s is not None:
        return s, False
    return None
