"""User-defined fields, as Primavera P6 keeps them: typed fields of activities, WBS elements or projects.

A UDF type names its subject (``UDF_SUBJECTS``) and its data type (``UDF_DATA_TYPES``): text, number (a float),
integer, cost (Decimal money, two places), date (project-local, as the activities' dates) or indicator (one of
P6's colours, ``UDF_INDICATORS``). Types are global, as P6's; a subject holds at most one value per type, kept
in the column of its data type.

Rights: everyone reads the types; administrators create and rename them. Values are read with their project and
set with edit rights on it. Every change is audited.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs.models import UDF_DATA_TYPES, UDF_INDICATORS, UDF_SUBJECTS, Activity, UdfType, UdfValue, WbsElement

__all__ = ["UDF_DATA_TYPES", "UDF_INDICATORS", "UDF_SUBJECTS", "checked_value", "create_udf_type", "parse_value",
           "get_udf_type_or_raise", "list_udf_types", "set_udf_values", "udf_values", "value_of"]

NAME_LENGTH = 100
TEXT_LENGTH = 4000
CENT = Decimal("0.01")
# The column each data type keeps its value in.
COLUMNS = {"text": "text", "number": "number", "integer": "number", "cost": "cost", "date": "date",
           "indicator": "indicator"}


# What a value of each data type is, as a refusal says it (a phrase: the pages translate it).
_WANTED = {
    "text": Phrase("a text of at most {limit} characters", limit=TEXT_LENGTH),
    "number": Phrase("a finite number"),
    "integer": Phrase("a whole number"),
    "cost": Phrase("a finite amount"),
    "date": Phrase("a project-local date and time without a zone, such as 2026-03-02T08:00"),
    "indicator": Phrase("one of {choices}", choices=", ".join(UDF_INDICATORS)),
}


def list_udf_types(session: Session, *, subject: str | None = None):
    """A select of the UDF types (of one subject when given), by subject and name."""
    query = select(UdfType).order_by(UdfType.subject, UdfType.name, UdfType.id)
    return query.where(UdfType.subject == subject) if subject else query


def get_udf_type_or_raise(session: Session, *, type_id: int, field: str | None = None) -> UdfType:
    """The UDF type (every user may read them)."""
    udf_type = session.get(UdfType, type_id)
    if udf_type is None:
        raise NotFound("user-defined field {type_id} not found", type_id=type_id,
                       errors={field: ["not found"]} if field else None)
    return udf_type


def create_udf_type(session: Session, *, actor: User, subject: str, name: str, data_type: str,
                    file_type: str | None = None, _imported: bool = False) -> UdfType:
    """A new UDF type (administrators; an import run without a user, ``_imported``, creates the types its file
    names); its name is unique per subject."""
    if not _imported and not actor.is_admin:
        raise Forbidden("only administrators create user-defined fields")
    if subject not in UDF_SUBJECTS:
        raise Invalid("a user-defined field's subject is one of {subjects}", subjects=", ".join(UDF_SUBJECTS),
                      errors={"subject": [f"one of {', '.join(UDF_SUBJECTS)}"]})
    if data_type not in UDF_DATA_TYPES:
        raise Invalid("a user-defined field's data type is one of {types}", types=", ".join(UDF_DATA_TYPES),
                      errors={"data_type": [f"one of {', '.join(UDF_DATA_TYPES)}"]})
    name = (name or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise Invalid("a user-defined field's name is 1 to {limit} characters", limit=NAME_LENGTH,
                      errors={"name": [f"1 to {NAME_LENGTH} characters"]})
    if session.scalar(select(UdfType.id).where(UdfType.subject == subject, UdfType.name == name)):
        raise Conflict("a user-defined field named {name!r} already exists for {subject}", name=name,
                       subject=subject, errors={"name": ["already in use"]})
    udf_type = UdfType(subject=subject, name=name, data_type=data_type, file_type=file_type)
    session.add(udf_type)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=udf_type, after=udf_type.audit_state())
    return udf_type


def parse_value(data_type: str, raw):
    """``raw`` (a file's text or a JSON value) as a value of ``data_type``; ValueError (or InvalidOperation)
    saying what is wrong otherwise."""
    if data_type == "text":
        value = str(raw)
        if len(value) > TEXT_LENGTH:
            raise ValueError(f"at most {TEXT_LENGTH} characters")
        return value
    if data_type == "number":
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    if data_type == "integer":
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError("not a whole number")
        return int(float(raw)) if isinstance(raw, str) and float(raw).is_integer() else int(raw)
    if data_type == "cost":
        value = Decimal(str(raw))
        if not value.is_finite():
            raise ValueError("not a finite amount")
        return value.quantize(CENT)
    if data_type == "date":
        value = raw if isinstance(raw, _dt.datetime) else _dt.datetime.fromisoformat(str(raw).strip())
        if value.tzinfo is not None:
            raise ValueError("not a project-local time: give it without a zone, as the activities' dates")
        return value.replace(second=0, microsecond=0)
    if data_type == "indicator":
        if raw not in UDF_INDICATORS:
            raise ValueError(f"one of {', '.join(UDF_INDICATORS)}")
        return raw
    raise ValueError(f"unknown data type {data_type!r}")


def checked_value(udf_type: UdfType, raw):
    """``raw`` as a value of ``udf_type``'s data type (a string is parsed); Invalid naming the field otherwise."""
    kind = udf_type.data_type
    if kind not in UDF_DATA_TYPES:
        raise Invalid("user-defined field {name!r} has an unknown data type {kind!r}", name=udf_type.name, kind=kind)
    try:
        return parse_value(kind, raw)
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        wanted = _WANTED[kind]
        raise Invalid("user-defined field {name!r} needs {wanted}", name=udf_type.name, wanted=wanted,
                      errors={str(udf_type.id): [str(wanted)]}) from None


def value_of(udf_type: UdfType, row: UdfValue):
    """The value a stored row holds for its type."""
    value = getattr(row, COLUMNS[udf_type.data_type])
    return int(value) if udf_type.data_type == "integer" and value is not None else value


def udf_values(session: Session, *, project: Project, subject: Activity | WbsElement | None = None,
               subject_kind: str = "activity") -> list[tuple[UdfType, UdfValue]]:
    """The UDF values of one activity or WBS element of ``project`` (the project's own when ``subject`` is None;
    the caller has read the project), by type."""
    query = (select(UdfType, UdfValue).join(UdfValue, UdfValue.type_id == UdfType.id)
             .where(UdfValue.project_id == project.id, *_subject_clause(subject, subject_kind))
             .order_by(UdfType.name, UdfType.id))
    return [tuple(row) for row in session.execute(query).all()]


def set_udf_values(session: Session, *, actor: User, project: Project, values: dict[int, object],
                   subject: Activity | WbsElement | None = None, subject_kind: str = "activity"):
    """Set the UDF values of an activity or WBS element of ``project`` (of the project itself when ``subject`` is
    None): type id → value (None clears it); types not named keep their value. Edit rights on the project; each
    type's subject must be the subject's kind and each value its data type."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    kind = "project" if subject is None else subject_kind
    types = {t.id: t for t in session.scalars(select(UdfType).where(UdfType.id.in_(list(values))))}
    wrong = sorted(type_id for type_id in values if type_id not in types or types[type_id].subject != kind)
    if wrong:
        raise Invalid("user-defined fields {ids} are not fields of the subject {kind}", ids=", ".join(map(str, wrong)),
                      kind=kind, errors={str(type_id): [f"not a field of subject {kind}"] for type_id in wrong})
    checked = {type_id: None if raw is None else checked_value(types[type_id], raw) for type_id, raw in values.items()}
    current = {t.id: v for t, v in udf_values(session, project=project, subject=subject, subject_kind=kind)}
    before = {str(t): _audit(types.get(t), v) for t, v in current.items() if t in types}
    for type_id, value in checked.items():
        held = current.get(type_id)
        if value is None:
            if held is not None:
                session.delete(held)
            continue
        if held is None:
            held = UdfValue(type_id=type_id, project_id=project.id, **_subject_ids(subject, kind))
            session.add(held)
        setattr(held, COLUMNS[types[type_id].data_type], value)
    session.flush()
    after = {str(t.id): _audit(t, v) for t, v in udf_values(session, project=project, subject=subject,
                                                             subject_kind=kind) if t.id in types}
    if after != before:
        entity = subject if subject is not None else project
        audit.record(session, actor=actor, action="set_udfs", entity=entity, before={"udfs": before},
                     after={"udfs": after})
    return udf_values(session, project=project, subject=subject, subject_kind=kind)


def _audit(udf_type: UdfType | None, row: UdfValue):
    value = value_of(udf_type, row) if udf_type is not None else None
    return value.isoformat() if isinstance(value, _dt.datetime) else str(value) if isinstance(value, Decimal) else value


def _subject_ids(subject, kind: str) -> dict:
    if kind == "activity":
        return {"activity_id": subject.id}
    if kind == "wbs":
        return {"wbs_element_id": subject.id}
    return {}


def _subject_clause(subject, kind: str) -> list:
    if subject is None:
        return [UdfValue.activity_id.is_(None), UdfValue.wbs_element_id.is_(None)]
    if kind == "activity":
        return [UdfValue.activity_id == subject.id]
    return [UdfValue.wbs_element_id == subject.id]
