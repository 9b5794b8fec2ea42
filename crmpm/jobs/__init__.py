"""Jobs: work that runs outside the request that asked for it, on workers of the job engine.

Ask with ``start(session, kind=…, params=…, actor=…)`` in the request's transaction; the job is
handed to the workers when it commits. Job kinds are plain functions in the domain packages
(``crmpm.jobs.kinds``), registered under the ``crmpm.jobs`` entry point; the engine (Huey) is
seen only through ``crmpm.jobs.engine``. Workers: ``crmpm worker`` (``crmpm.jobs.worker``).
"""

from crmpm.jobs.kinds import JobContext, installed_kinds, periodic
from crmpm.jobs.models import STATUSES, Job, JobFile
from crmpm.jobs.services import FILE_KEPT, attach_file, engine_of, job_file, list_, readable, retry, snapshot, start

__all__ = ["FILE_KEPT", "STATUSES", "Job", "JobContext", "JobFile", "attach_file", "engine_of", "job_file", "installed_kinds",
           "list_", "periodic", "readable", "retry", "snapshot", "start"]
