"""Job kinds: plain functions in the domain packages, found through the ``crmpm.jobs`` entry point.

A job function takes a ``JobContext`` and returns its result (a JSON-able dict, or None). It
works in ``ctx.session``, the job's one transaction, and never commits: the runner commits the
work together with the job's ``succeeded`` state. It may report progress with ``ctx.progress``.
Decorated with ``periodic(...)``, it also runs on that schedule with no parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points

from sqlalchemy.orm import Session

JOBS_GROUP = "crmpm.jobs"
log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job function is given: its transaction, parameters, who asked, and a progress reporter."""

    session: Session
    job_id: int
    params: dict
    actor: object | None = None
    report: Callable[[float, str | None], None] = field(default=lambda fraction, message: None)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report how far the job is (0.0–1.0), visible to the API while the job runs."""
        self.report(min(max(float(fraction), 0.0), 1.0), message)


def periodic(**schedule: str) -> Callable[[Callable], Callable]:
    """Mark a job function to run on a crontab schedule, e.g. ``periodic(minute="0")`` for hourly.

    Every worker's scheduler asks for it at that minute; the job's key (its kind and the minute)
    makes the second and later asks of one minute start nothing.
    """

    def mark(function: Callable) -> Callable:
        function.crmpm_schedule = schedule
        return function

    return mark


@lru_cache(maxsize=1)
def installed_kinds() -> dict[str, Callable[[JobContext], dict | None]]:
    """Every job kind the installed packages register, by name.

    A kind whose function cannot be loaded is left out with an error in the log: asking for it
    is then refused (``crmpm.jobs.start``) and the other kinds keep working.
    """
    kinds = {}
    for entry in entry_points(group=JOBS_GROUP):
        try:
            kinds[entry.name] = entry.load()
        except (ImportError, AttributeError) as exc:
            log.error("job kind %s (%s) cannot be loaded: %s", entry.name, entry.value, exc)
    return kinds


def periodic_kinds() -> dict[str, dict]:
    """The periodic job kinds and their schedules."""
    return {name: function.crmpm_schedule for name, function in installed_kinds().items()
            if getattr(function, "crmpm_schedule", None)}
