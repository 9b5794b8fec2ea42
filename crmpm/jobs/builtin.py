"""The core's own job kinds."""

from __future__ import annotations

import time

from crmpm.jobs.kinds import JobContext

MAX_NOOP_SLEEP = 60.0


def noop(ctx: JobContext) -> dict:
    """Do nothing (after ``sleep`` seconds, at most a minute): measures the engine, checks a worker answers."""
    pause = min(max(float(ctx.params.get("sleep", 0) or 0), 0.0), MAX_NOOP_SLEEP)
    if pause:
        steps = 10
        for step in range(steps):
            time.sleep(pause / steps)
            ctx.progress((step + 1) / steps)
    return {"slept": pause}
