"""Accounts that refer to rows of the same file resolve whatever the order of the rows; cycles are refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from accounts.imports import import_csv
from accounts.models import Account
from tests import factories

MAPPING = {"columns": {"id": "external_id", "name": "name", "parent": "parent"}, "defaults": {"region": "MSK"}}
HEADER = "id,name,parent\n"


@pytest.fixture
def branch(session):
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    node = factories.node(session, actor=admin, parent=root, code="MSK")
    session.commit()
    return {"admin": admin, "node": node}


def _import(session, tmp_path, admin, text: str, **options):
    csv_path, mapping_path = tmp_path / "accounts.csv", tmp_path / "accounts.json"
    csv_path.write_text(text, encoding="utf-8")
    mapping_path.write_text(json.dumps(MAPPING), encoding="utf-8")
    report = import_csv(session, actor=admin, kind="accounts", path=csv_path, mapping=mapping_path, **options)
    session.commit()
    return report


def _parents(session) -> dict[str, str | None]:
    accounts = session.scalars(select(Account).where(Account.external_id.is_not(None))).all()
    by_id = {account.id: account.external_id for account in accounts}
    return {account.external_id: by_id.get(account.parent_id) for account in accounts}


def test_subsidiaries_listed_before_their_parents_are_imported(session, branch, tmp_path):
    # Line 2's parent is on line 4, whose own parent is on line 5; line 3 names its parent by name.
    text = HEADER + "S1,Sub One,H1\nS2,Sub Two,Holding\nH1,Holding,TOP\nTOP,Top Group,\n"
    report = _import(session, tmp_path, branch["admin"], text)
    assert report.errors == [] and report.created == 4, report.summary()
    assert _parents(session) == {"S1": "H1", "S2": "H1", "H1": "TOP", "TOP": None}
    again = _import(session, tmp_path, branch["admin"], text)
    assert (again.unchanged, again.errors) == (4, []), again.summary()


def test_a_dry_run_resolves_the_same_references(session, branch, tmp_path):
    report = _import(session, tmp_path, branch["admin"], HEADER + "S1,Sub One,H1\nH1,Holding,\n", dry_run=True)
    assert (report.created, report.errors) == (2, []), report.summary()
    assert _parents(session) == {}


def test_a_cycle_in_the_file_is_refused_naming_its_lines(session, branch, tmp_path):
    text = HEADER + "A,Alpha,C\nOK,Fine,\nB,Beta,A\nC,Gamma,B\nSELF,Narcissus,SELF\nKID,Child of Alpha,A\n"
    report = _import(session, tmp_path, branch["admin"], text, partial=True)
    by_line = {error.line: error for error in report.errors}
    assert sorted(by_line) == [2, 4, 5, 6, 7], report.summary()
    for line in (2, 4, 5):
        assert by_line[line].field == "parent" and "lines 2, 4, 5" in by_line[line].reason
    assert "line 6" in by_line[6].reason and "own row" in by_line[6].reason
    assert "line 2" in by_line[7].reason  # its parent row was refused, and it says which
    assert _parents(session) == {"OK": None}
