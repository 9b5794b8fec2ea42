"""Exceptions raised by the CPM scheduler.

They form a small hierarchy under :class:`SchedulingError` so that callers
(the CLI, the WBS services) can catch one type and still tell a broken
network (:class:`DependencyLoop`) from bad input data
(:class:`ScheduleInputError`).
"""

__all__ = ["SchedulingError", "ScheduleInputError", "DependencyLoop"]


class SchedulingError(Exception):
    """Base class of every error raised by :mod:`wbs.scheduling`."""


class ScheduleInputError(SchedulingError, ValueError):
    """The scheduler was given data it cannot schedule.

    Parameters
    ----------
    message : str
        Human readable explanation.
    activity : str, optional
        Code of the offending activity, when there is one.
    """

    def __init__(self, message, activity=None):
        self.activity = activity
        if activity is not None:
            message = f"activity {activity}: {message}"
        super().__init__(message)


class DependencyLoop(SchedulingError):
    """The relationships contain a cycle, so no schedule exists.

    Parameters
    ----------
    cycle : list of str
        Activity codes along the loop, in relationship order; the first
        code is not repeated at the end.
    """

    def __init__(self, cycle):
        self.cycle = list(cycle)
        path = " -> ".join(self.cycle + self.cycle[:1])
        super().__init__(f"dependency loop: {path}")
