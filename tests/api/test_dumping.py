"""api.dumping gives what marshmallow's dump gives, for every kind of field the API uses."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from types import SimpleNamespace

from marshmallow import Schema, fields, post_dump, pre_dump
from sqlalchemy import create_engine, text

from api.common import Blueprint, Money
from api.dumping import dumper


class Colour(enum.Enum):
    red = "r"
    blue = "b"


class LineSchema(Schema):
    id = fields.Integer()
    quantity = fields.Decimal(as_string=True)
    price = Money()


class ThingSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    renamed = fields.String(attribute="original_name")
    keyed = fields.Integer(data_key="outputKey")
    defaulted = fields.String(dump_default="none given")
    flag = fields.Boolean()
    ratio = fields.Float()
    amount = Money()
    at = fields.DateTime()
    aware = fields.AwareDateTime()
    day = fields.Date()
    colour = fields.Enum(Colour, by_value=True)
    colour_name = fields.Enum(Colour, attribute="colour", dump_only=True)
    computed = fields.Function(lambda thing: f"{thing.name}!")
    anything = fields.Raw()
    mapping = fields.Dict()
    line = fields.Nested(LineSchema, allow_none=True)
    lines = fields.List(fields.Nested(LineSchema))
    many_lines = fields.Nested(LineSchema, many=True)
    tags = fields.List(fields.String())


def _line(number):
    return SimpleNamespace(id=number, quantity=Decimal("1.500"), price=Decimal(number) / 3)


def _thing(**overrides):
    values = dict(
        id=7, name="Ладога", original_name="Old", keyed=3, flag=1, ratio=0.25, amount=Decimal("1250000.5"),
        at=dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.timezone.utc), aware=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        day=dt.date(2026, 12, 31), colour=Colour.blue, anything={"a": [1, 2]}, mapping={"k": "v"},
        line=_line(1), lines=[_line(2), None, _line(3)], many_lines=[_line(4)], tags=["x", "y"],
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_objects_dump_as_marshmallow_dumps_them():
    schema = ThingSchema()
    fast = dumper(schema)
    assert fast is not schema.dump  # compiled, not the fallback
    for thing in (_thing(), _thing(line=None, lines=[], amount=None, at=None, day=None, colour=None, flag=0),
                  _thing(lines=None, many_lines=None, tags=None, name=None)):
        assert fast(thing) == schema.dump(thing)


def test_missing_attributes_are_left_out_or_defaulted_as_marshmallow_does():
    thing = _thing()
    del thing.ratio  # and it has no "defaulted" at all
    schema = ThingSchema()
    result = dumper(schema)(thing)
    assert result == schema.dump(thing)
    assert "ratio" not in result and result["defaulted"] == "none given"


def test_dicts_and_database_rows_dump_as_marshmallow_dumps_them():
    schema = LineSchema()
    assert dumper(schema)({"id": 1, "quantity": Decimal("2"), "price": Decimal("3.456")}) == \
        schema.dump({"id": 1, "quantity": Decimal("2"), "price": Decimal("3.456")})
    with create_engine("sqlite://").connect() as connection:
        row = connection.execute(text("SELECT 5 AS id, 2.5 AS quantity, 10 AS price")).one()
    assert dumper(schema)(row) == schema.dump(row) == {"id": 5, "quantity": "2.5", "price": "10.00"}


def test_many_schemas_dump_lists():
    schema = LineSchema(many=True)
    lines = [_line(1), _line(2)]
    assert dumper(schema)(lines) == schema.dump(lines)
    assert dumper(schema)(None) == schema.dump(None)


def test_schemas_with_dump_hooks_are_left_to_marshmallow():
    class Hooked(Schema):
        id = fields.Integer()

        @pre_dump
        def _before(self, obj, **_kwargs):
            return {"id": obj["id"] + 1}

    class Posted(Schema):
        id = fields.Integer()

        @post_dump
        def _after(self, data, **_kwargs):
            return {**data, "extra": True}

    class Outer(Schema):
        inner = fields.Nested(Hooked)

    for schema, value in ((Hooked(), {"id": 1}), (Posted(), {"id": 1}), (Outer(), {"inner": {"id": 1}})):
        fast = dumper(schema)
        assert fast == schema.dump
        assert fast(value) == schema.dump(value)


def test_nested_fields_with_only_or_dotted_attributes_are_left_to_marshmallow():
    class Partial(Schema):
        line = fields.Nested(LineSchema, only=("id",))

    class Dotted(Schema):
        line_id = fields.Integer(attribute="line.id")

    thing = _thing()
    for schema in (Partial(), Dotted()):
        assert dumper(schema) == schema.dump
        assert dumper(schema)(thing) == schema.dump(thing)


def test_every_api_response_schema_is_dumped_the_fast_way(app):
    """The API's response schemas are all compiled: none falls back to marshmallow's general path."""
    assert Blueprint.dumped_schemas
    slow = []
    for schema in Blueprint.dumped_schemas:
        fast = getattr(schema.dump, "fast", schema.dump)  # the suite's check wraps it (tests/conftest.py)
        if getattr(fast, "__self__", None) is schema:
            slow.append(type(schema).__name__)
    assert slow == []
