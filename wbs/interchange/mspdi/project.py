"""An MS Project XML file as the checked neutral project (:func:`read_mspdi_project`), and imported as a new
crmpm project (:func:`import_mspdi`): the MSPDI side of :mod:`wbs.interchange.store`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs.interchange.model import ExchangeProject, checked_links
from wbs.interchange.mspdi.common import MspdiError
from wbs.interchange.mspdi.reader import read_mspdi
from wbs.interchange.store import import_project

__all__ = ["import_mspdi", "read_mspdi_project"]


def import_mspdi(session: Session, *, actor: User, data: bytes, eps_node: EpsNode, code: str | None = None,
                 name: str | None = None, warnings: list[str] | None = None) -> Project:
    """Create a project under ``eps_node`` from an MS Project XML file (edit rights there), scheduled, and return
    it; what the file held that crmpm cannot represent is appended to ``warnings`` when a list is given."""
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    source = read_mspdi_project(data)
    return import_project(session, actor=actor, eps_node=eps_node, source=source, file_format="mspdi", code=code,
                          name=name, warnings=warnings)


def read_mspdi_project(data: bytes) -> ExchangeProject:
    """An MS Project XML file as the neutral project, checked; Invalid naming the fault otherwise."""
    try:
        source = read_mspdi(bytes(data))
    except MspdiError as exc:
        raise Invalid("MSPDI file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    return checked_links(source, "MSPDI file: PredecessorLink")
