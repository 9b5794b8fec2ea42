"""JSON responses written by orjson are the JSON Flask's own provider writes (crmpm.jsonprovider)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime, timezone

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from crmpm.jsonprovider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


def _both(value):
    app = Flask("json-check")
    with app.app_context():
        ours = OrjsonProvider(app).response(value).get_data()
        flasks = DefaultJSONProvider(app).response(value).get_data()
    return ours, flasks


def test_the_same_json_for_what_the_api_returns_and_for_what_flask_writes_its_own_way():
    value = {"b": [1, 2.5, None, True], "a": {"z": "Ладога", "y": "x"}, "when": datetime(2026, 12, 4, 10, 30,
             tzinfo=timezone.utc), "day": date(2026, 12, 4), "id": uuid.UUID(int=7), "point": Point(1, "p")}
    ours, flasks = _both(value)
    assert json.loads(ours) == json.loads(flasks)
    assert json.loads(ours)["when"] == "Fri, 04 Dec 2026 10:30:00 GMT"  # Flask's own date format, kept
    # Compact, keys sorted, one trailing newline: what json.dumps writes of the same data, unescaped.
    assert ours == json.dumps(json.loads(ours), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    assert "Ладога".encode() in ours  # UTF-8, not escapes


def test_what_orjson_refuses_is_written_by_flask_as_before():
    for value in ({1: "a non-string key"}, {"big": 2**70}):
        ours, flasks = _both(value)
        assert ours == flasks


def test_debug_mode_keeps_flasks_indented_output():
    app = Flask("json-debug")
    app.debug = True
    with app.app_context():
        assert OrjsonProvider(app).response({"a": 1}).get_data() == DefaultJSONProvider(app).response(
            {"a": 1}).get_data()
