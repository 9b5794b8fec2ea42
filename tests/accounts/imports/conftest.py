"""Shared data for the import tests: an enterprise with two branches and a way to import a CSV built in the test."""

from __future__ import annotations

import json
from itertools import count

import pytest

from accounts.imports import import_csv
from tests import factories

_files = count(1)


@pytest.fixture
def world(session):
    """An administrator, branches A and B under one root, and a sales manager who may edit branch A only."""
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    world = {"admin": admin, "root": root, "owner": factories.user(session, email="owner@example.test",
                                                                     name="Ольга Смирнова")}
    for side in ("A", "B"):
        world[side] = factories.node(session, actor=admin, parent=root, code=side)
    world["manager"] = factories.user(session, email="manager@example.test")
    factories.grant(session, actor=admin, role="editor", target=world["A"], user=world["manager"])
    session.commit()
    return world


@pytest.fixture
def run(session, tmp_path):
    """``run(actor, kind, csv_text, mapping, **options)``: the file and its mapping written, then imported."""

    def run_import(actor, kind: str, text: str, mapping: dict, **options):
        n = next(_files)
        csv_path, mapping_path = tmp_path / f"{kind}{n}.csv", tmp_path / f"{kind}{n}.json"
        csv_path.write_text(text, encoding="utf-8")
        mapping_path.write_text(json.dumps(mapping), encoding="utf-8")
        report = import_csv(session, actor=actor, kind=kind, path=csv_path, mapping=mapping_path, **options)
        session.commit()
        return report

    return run_import
