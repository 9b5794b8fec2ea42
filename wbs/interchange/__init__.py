"""Project files in and out of crmpm: Primavera P6 XER and MS Project XML (MSPDI).

* :mod:`.model`: the neutral project every format is read into and written from.
* :mod:`.store`: a neutral project into the database (a new project, or a project's plan replaced) and
  a stored project back out; it knows no format.
* :mod:`.xer`, :mod:`.mspdi`: one folder per format, and the only places that know its tables, fields
  or elements: reading the file into the neutral project, writing it back, the database import
  (``project``) and the streamed export (``export``).
* :mod:`.limits`: how much one uploaded file may hold, checked before it is parsed.
* :mod:`.cli`: the ``crmpm xer`` and ``crmpm mspdi`` commands (registered in ``pyproject.toml``).

The names below are the ones the API, the pages and the commands use.
"""

from wbs.interchange.mspdi.export import export_mspdi, mspdi_chunks
from wbs.interchange.mspdi.project import import_mspdi, read_mspdi_project
from wbs.interchange.store import exchange_of, replace_plan
from wbs.interchange.xer.export import export_xer, export_xer_to, xer_chunks
from wbs.interchange.xer.project import import_xer, read_xer_project

__all__ = ["import_xer", "read_xer_project", "import_mspdi", "read_mspdi_project", "replace_plan", "exchange_of",
           "export_xer", "export_xer_to", "xer_chunks", "export_mspdi", "mspdi_chunks"]
