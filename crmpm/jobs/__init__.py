"""Jobs: work that runs outside the request that asked for it, on workers of the job engine.

Ask with ``start(session, kind=…, params=…, actor=…)`` in the request's transaction; the job is
handed to the workers when it commits. Job kinds are plain functions in the domain packages
(``crmpm.jobs.kinds``), registered under the ``crmpm.jobs`` entry point; the engine (Huey) is
seen only through ``crmpm.jobs.engine``. Workers: ``crmpm worker`` (``crmpm.jobs.worker``).

The names below are imported from their modules on first use, not with the package, so that
``crmpm --help`` and the commands that need no jobs start without the engine and the database layer.
"""

from crmpm.lazy import lazy_names

_HOMES = {
    "JobContext": "crmpm.jobs.kinds",
    "installed_kinds": "crmpm.jobs.kinds",
    "periodic": "crmpm.jobs.kinds",
    "STATUSES": "crmpm.jobs.models",
    "Job": "crmpm.jobs.models",
    "JobFile": "crmpm.jobs.models",
    "FILE_KEPT": "crmpm.jobs.services",
    "attach_file": "crmpm.jobs.services",
    "config_of": "crmpm.jobs.services",
    "engine_of": "crmpm.jobs.services",
    "job_file": "crmpm.jobs.services",
    "list_": "crmpm.jobs.services",
    "public_url": "crmpm.jobs.services",
    "readable": "crmpm.jobs.services",
    "retry": "crmpm.jobs.services",
    "snapshot": "crmpm.jobs.services",
    "start": "crmpm.jobs.services",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_names(__name__, _HOMES)
