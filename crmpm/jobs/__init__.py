"""Jobs: work that runs outside the request that asked for it, on workers of the job engine.

Ask with ``start(session, kind=…, params=…, actor=…)`` in the request's transaction; the job is
handed to the workers when it commits. Job kinds are plain functions in the domain packages
(``crmpm.jobs.kinds``), registered under the ``crmpm.jobs`` entry point; the engine (Huey) is
seen only through ``crmpm.jobs.engine``. Workers: ``crmpm worker`` (``crmpm.jobs.worker``).
"""

from crmpm.jobs.kinds import JobContext, installed_kinds, periodic
from crmpm.jobs.models import STATUSES, Job
from crmpm.jobs.services import engine_of, list_, readable, retry, snapshot, start

__all__ = ["STATUSES", "Job", "JobContext", "engine_of", "installed_kinds", "list_", "periodic", "readable",
           "retry", "snapshot", "start"]
