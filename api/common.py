"""Shared pieces of the API: the caller, pagination, and field types with their limits."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import flask_smorest
from flask import current_app, g
from flask_smorest.error_handler import ErrorSchema
from flask_smorest.utils import resolve_schema_instance
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser

from api.dumping import dumper
from crmpm import emails
from crmpm.database import db
from crmpm.rows import fetch_all
from crmpm.statements import PAGE_PARAMETERS, page_of

MONEY_LIMIT = Decimal("1e15")
CENTS = Decimal("0.01")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
CODE_RE = re.compile(r"^[^\x00-\x1f\x7f]+$")


class _QueryValues(dict):
    """A query string's values by name (the first of each), and ``getlist`` for all of one name's.

    What webargs asks of the query: werkzeug's ``MultiDict.get`` raises, and first builds, an HTTP
    error (``BadRequestKeyError``) for each field the query leaves out, a few µs apiece on every list.
    """

    def __init__(self, multidict) -> None:
        super().__init__((key, values[0]) for key, values in multidict.lists())
        self._multidict = multidict

    def getlist(self, key: str) -> list:
        return self._multidict.getlist(key)


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser, reading the query string as ``_QueryValues``."""

    def load_querystring(self, req, schema):
        return self._makeproxy(_QueryValues(req.args), schema)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, whose responses are dumped by ``api.dumping`` (same output, less time)
    and whose argument schemas are built once instead of once per request."""

    ARGUMENTS_PARSER = ArgumentsParser()

    # Every response schema instance whose ``dump`` was replaced (the tests check each against marshmallow's).
    dumped_schemas: list[Schema] = []

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(resolve_schema_instance(schema), *args, **kwargs)

    def throttled(self):
        """Document the 429 a rate-limited endpoint answers (``crmpm.ratelimit``), with its ``Retry-After``."""
        return self.alt_response(429, schema=ErrorSchema, description="Too many attempts: wait and try again.",
                                 headers={"Retry-After": {"description": "Seconds to wait before the next attempt.",
                                                          "schema": {"type": "integer", "minimum": 1}}})

    def response(self, status_code, schema=None, **kwargs):
        schema = resolve_schema_instance(schema) if schema is not None else None
        if isinstance(schema, Schema):
            schema.dump = dumper(schema)
            Blueprint.dumped_schemas.append(schema)
        return super().response(status_code, schema, **kwargs)


def current_user():
    """The authenticated user of this request."""
    return g.user


def session():
    """The request's database session."""
    return db.session


class Money(fields.Decimal):
    """An amount in the base currency: a JSON string or number with at most two decimals."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        super().__init__(places=None, as_string=True, allow_nan=False, **kwargs)
        self.allow_negative = allow_negative

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid amount.")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not amount.is_finite():
            raise ValidationError("Not a valid amount.")
        if amount.as_tuple().exponent < -2 and amount != amount.quantize(CENTS):
            raise ValidationError("At most two decimal places.")
        if abs(amount) >= MONEY_LIMIT:
            raise ValidationError(f"Must be less than {MONEY_LIMIT:,.0f} in absolute value.")
        if amount < 0 and not self.allow_negative:
            raise ValidationError("Must not be negative.")
        return amount.quantize(CENTS)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return str((value if type(value) is Decimal else Decimal(value)).quantize(CENTS))


def Id(**kwargs) -> fields.Integer:  # noqa: N802 - a field factory reads like a field class
    """A reference to a row by id: a positive integer that fits the database."""
    kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
    return fields.Integer(**kwargs)


def Code(**kwargs) -> fields.String:  # noqa: N802 - a field factory reads like a field class
    """A short identifier: 1 to 40 printable characters, trimmed."""
    return Trimmed(validate=[validate.Length(min=1, max=40), validate.Regexp(CODE_RE, error="Control characters are not allowed.")], **kwargs)


def Name(max_length: int = 200, **kwargs) -> fields.String:  # noqa: N802
    """A display name: 1 to ``max_length`` characters, trimmed."""
    return Trimmed(validate=[validate.Length(min=1, max=max_length), validate.Regexp(CODE_RE, error="Control characters are not allowed.")], **kwargs)


class EmailAddress(fields.String):
    """An e-mail address, checked by crmpm's one rule (``crmpm.emails``) and given in its one spelling."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return emails.normalize_email(super()._deserialize(value, attr, data, **kwargs))
        except emails.InvalidEmail:
            raise ValidationError("Not a valid email address.") from None


class Trimmed(fields.String):
    """A string with surrounding white space removed before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class PageArgs(Schema):
    """Which page of a list to return."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """A schema for one page of ``item_schema`` items: ``items`` plus pagination info."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema)),
        "page": fields.Integer(),
        "per_page": fields.Integer(),
        "total": fields.Integer(),
        "pages": fields.Integer(),
    })


def paginate(query, args: dict, *, scalars: bool = True, unique: bool = False, columns: bool = False,
             read=None) -> dict:
    """Run one page of ``query`` and count the whole (``unique``: the query joins in collections).

    The page is read first: when it is neither empty nor full, it is the last page and the
    total follows from it, so the count query runs only when it can tell something new.
    ``columns``: the items are the rows of the entity's own columns, as dicts, instead of ORM
    objects, for a read schema that dumps nothing but columns (the ORM's building of objects costs
    more than reading the page). ``read(session, window)``: the items of the page ``window`` (the values
    of ``PAGE_PARAMETERS``), read by the list's own read model (``accounts.deals.deal_page``).
    """
    page, per_page = args.get("page", 1), args.get("per_page", 50)
    db_session = session()
    offset = (page - 1) * per_page
    window = dict(zip(PAGE_PARAMETERS, (per_page, offset)))
    if read is not None:
        items = read(db_session, window)
    elif columns:
        table = query.column_descriptions[0]["entity"].__table__
        keys = [column.key for column in table.columns]
        items = [dict(zip(keys, row)) for row in fetch_all(db_session, page_of(query, table), window)]
    elif scalars:
        result = db_session.scalars(page_of(query), window)
        items = (result.unique() if unique else result).all()
    else:
        items = db_session.execute(page_of(query), window).all()
    if 0 < len(items) < per_page or (page == 1 and not items):
        total = offset + len(items)
    else:
        total = db_session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": math.ceil(total / per_page) if total else 0}


def base_currency() -> str:
    """The installation's currency."""
    return current_app.config["BASE_CURRENCY"]


def reads_no_grants(view):
    """Mark a view that never asks for the caller's grants, so its request does not read them with the token
    (``api.init_app``: every other API request does, as nearly all filter or check by them)."""
    view.reads_no_grants = True
    return view
