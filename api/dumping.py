"""Dumping responses in one pass per object, with marshmallow's own formatting.

``Schema.dump`` spends most of its time around the formatting rather than in
it: for every field of every row it resolves an accessor, tries ``obj[key]``
before ``getattr``, checks for a default and dispatches through ``serialize``.
``dumper(schema)`` does that resolution once per schema and returns a function
that, per object, reads each attribute and calls the field's own
``_serialize`` (so a Money, a DateTime or an Enum is written exactly as
marshmallow writes it). Nested schemas and lists of them are compiled the same
way. A schema it cannot follow exactly (dump hooks, its own ``get_attribute``,
dotted attributes, ``only``/``exclude`` on a nested field) is dumped by
marshmallow itself. ``tests/api/test_dumping.py`` checks the two agree on every
response schema of the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

__all__ = ["dumper"]

Dump = Callable[[Any], Any]


def dumper(schema: Schema) -> Dump:
    """A function returning what ``schema.dump(obj)`` returns, faster where the schema allows it."""
    one = _compile(schema)
    if one is None:
        return schema.dump
    if not schema.many:
        return one

    def dump_many(objs):
        if objs is None:
            return schema.dump(objs)
        return [one(obj) for obj in objs]

    return dump_many


def _compile(schema: Schema, compiling: dict | None = None) -> Dump | None:
    """``schema.dump`` of one object, or None when only marshmallow itself dumps it exactly.

    ``compiling`` holds the schema classes being compiled further up, so that a schema nesting
    itself (a tree) refers to its own function instead of compiling forever.
    """
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    if type(schema).get_attribute is not Schema.get_attribute or schema.dict_class is not dict:
        return None
    compiling = {} if compiling is None else compiling
    key = (type(schema), None if schema.only is None else frozenset(schema.only), frozenset(schema.exclude))
    if key in compiling:
        return lambda obj: compiling[key](obj)
    compiling[key] = None
    steps = []
    for name, field in schema.dump_fields.items():
        step = _step(name, field, compiling)
        if step is None:
            return None
        steps.append(step)
    steps = tuple(steps)

    def dump_one(obj):
        # marshmallow's accessor: obj[key] for what has __getitem__ (dicts, rows), else getattr.
        read = _read_item if hasattr(obj, "__getitem__") else _attribute_reader(type(obj))
        result = {}
        for key, attribute, format_value, default in steps:
            if attribute is None:
                result[key] = format_value(None, obj)
                continue
            value = read(obj, attribute)
            if value is missing:
                if default is missing:
                    continue
                value = default() if callable(default) else default
                if value is missing:
                    continue
            # The two commonest fields, inline: what Integer and String's _serialize return.
            if format_value is _INTEGER:
                result[key] = value if value is None or type(value) is int else int(value)
            elif format_value is _STRING:
                result[key] = value if value is None or type(value) is str else str(value)
            else:
                result[key] = format_value(value, obj)
        return result

    compiling[key] = dump_one
    return dump_one


def _step(name: str, field: fields.Field, compiling: dict):
    """(output key, attribute read or None, formatter(value, obj), dump default) for one field, or None."""
    attribute = field.attribute if field.attribute is not None else name
    if "." in attribute:
        return None
    key = field.data_key if field.data_key is not None else name
    format_value = _formatter(name, field, compiling)
    if format_value is None:
        return None
    return key, attribute if field._CHECK_ATTRIBUTE else None, format_value, field.dump_default


def _formatter(name: str, field: fields.Field, compiling: dict):
    """How one field turns a value into output, as ``field._serialize`` does; None if not followed exactly."""
    if isinstance(field, fields.Pluck):
        return None
    if isinstance(field, fields.Nested):
        return _nested_formatter(field, compiling)
    if type(field) is fields.List and isinstance(field.inner, fields.Nested):
        inner = _nested_formatter(field.inner, compiling)
        if inner is None:
            return None
        return lambda value, obj: None if value is None else [inner(each, obj) for each in value]
    if type(field) is fields.Integer and not field.as_string:
        return _INTEGER
    if isinstance(field, fields.String) and type(field)._serialize is fields.String._serialize:
        return _STRING
    if type(field) in (fields.DateTime, fields.Date) and (field.format or field.DEFAULT_FORMAT) in _ISO_FORMATS:
        # What their _serialize does for an ISO format: the value's own isoformat.
        return _isoformat
    serialize = field._serialize
    return lambda value, obj: serialize(value, name, obj)


_ISO_FORMATS = frozenset({"iso", "iso8601"})


def _isoformat(value, obj):
    return None if value is None else value.isoformat()


# Markers of fields dumped inline by ``dump_one`` (never called).
def _INTEGER(value, obj):  # noqa: N802
    raise AssertionError("dumped inline")


def _STRING(value, obj):  # noqa: N802
    raise AssertionError("dumped inline")


def _nested_formatter(field: fields.Nested, compiling: dict):
    if type(field) is not fields.Nested or field.only is not None or field.exclude:
        return None
    schema = field.schema
    one = _compile(schema, compiling)
    if one is None:
        return None
    if schema.many or field.many:
        return lambda value, obj: None if value is None else [one(each) for each in value]
    return lambda value, obj: None if value is None else one(value)


def _read_attribute(obj, attribute):
    return getattr(obj, attribute, missing)


_READERS: dict[type, Callable[[Any, str], Any]] = {}


def _attribute_reader(cls: type) -> Callable[[Any, str], Any]:
    """``getattr`` for objects of ``cls``; for a mapped class, a loaded column or relationship is read from
    the object's ``__dict__``, where the ORM's attribute keeps it (what ``getattr`` returns, without the
    descriptor's work); what is not loaded, and every other attribute (properties), goes through ``getattr``.
    """
    reader = _READERS.get(cls)
    if reader is None:
        mapper = getattr(cls, "__mapper__", None)
        if mapper is None:
            reader = _read_attribute
        else:
            instrumented = frozenset(mapper.attrs.keys())

            def reader(obj, attribute, _instrumented=instrumented):
                if attribute in _instrumented:
                    value = obj.__dict__.get(attribute, _ABSENT)
                    if value is not _ABSENT:
                        return value
                return getattr(obj, attribute, missing)
        _READERS[cls] = reader
    return reader


_ABSENT = object()


def _read_item(obj, attribute):
    try:
        return obj[attribute]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, attribute, missing)
