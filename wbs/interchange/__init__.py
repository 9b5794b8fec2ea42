"""Project files in and out of crmpm: Primavera P6 XER and MS Project XML (MSPDI).

* :mod:`.model`: the neutral project every format is read into and written from.
* :mod:`.store`: a neutral project into the database (a new project, or a project's plan replaced) and
  a stored project back out; it knows no format.
* :mod:`.xer`, :mod:`.mspdi`: one folder per format, and the only places that know its tables, fields
  or elements: reading the file into the neutral project, writing it back, the database import
  (``project``) and the streamed export (``export``).
* :mod:`.limits`: how much one uploaded file may hold, checked before it is parsed.
* :mod:`.cli`: the ``crmpm xer`` and ``crmpm mspdi`` commands (registered in ``pyproject.toml``).

The names below are the ones the API, the pages and the commands use. Each is imported from its module
on first use, not with the package: the database-free parts (reading, writing, ``crmpm xer schedule``)
then load without SQLAlchemy and the models.
"""

from crmpm.lazy import lazy_names

_HOMES = {
    "import_xer": "wbs.interchange.xer.project",
    "read_xer_project": "wbs.interchange.xer.project",
    "import_mspdi": "wbs.interchange.mspdi.project",
    "read_mspdi_project": "wbs.interchange.mspdi.project",
    "replace_plan": "wbs.interchange.store",
    "exchange_of": "wbs.interchange.store",
    "export_xer": "wbs.interchange.xer.export",
    "export_xer_to": "wbs.interchange.xer.export",
    "xer_chunks": "wbs.interchange.xer.export",
    "export_mspdi": "wbs.interchange.mspdi.export",
    "mspdi_chunks": "wbs.interchange.mspdi.export",
}

__all__ = list(_HOMES)


__getattr__ = lazy_names(__name__, _HOMES)
