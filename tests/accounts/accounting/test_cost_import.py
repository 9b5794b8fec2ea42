"""Actual costs from accounting: files built from the documented format (docs/accounting-exchange.md), the
expected figures added up here from the rows written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from accounts.accounting import costs
from accounts.accounting.models import AccountingRun
from crmpm.errors import Forbidden, Invalid
from eps import budgets
from wbs.expenses.models import CostAccount, ProjectExpense
from tests.accounts.accounting import world as worlds

D = Decimal


@pytest.fixture
def world(session):
    return worlds.build(session)


def csv_bytes(rows, *, separator=";", encoding="utf-8", header=("project", "cost_account", "date", "amount",
                                                                 "description", "document")) -> bytes:
    lines = [separator.join(header)] + [separator.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def expenses_of(session, project):
    return session.scalars(select(ProjectExpense).where(ProjectExpense.project_id == project.id)
                           .order_by(ProjectExpense.id)).all()


def test_matching_rows_are_booked_and_the_project_actual_cost_is_activities_plus_expenses(session, world):
    p1 = world["p1"]
    worlds.activity(session, world, p1, "A1", "1000.00")
    worlds.activity(session, world, p1, "A2", "250.50")
    data = csv_bytes([("PRJ-1", "20.01", "2026-11-03", "1 200,40", "Materials", "ПТУ-17"),
                      ("PRJ-1", "26", "05.11.2026", "300", "Rent", "РС-4"),
                      ("PRJ-2", "20.01", "30.11.2026 0:00:00", "-50.10", "Reversal", "ПТУ-17")])
    run = costs.import_costs(session, actor=world["finance"], data=data, file_name="costs.csv")
    assert (run.rows, run.applied, run.unmatched, run.duplicates) == (3, 3, 0, 0)
    assert run.direction == "in" and run.status == "succeeded" and run.actor_id == world["finance"].id
    booked = expenses_of(session, p1)
    assert [(e.cost_account.code, e.booked_on.isoformat(), e.amount, e.description) for e in booked] == [
        ("20.01", "2026-11-03", D("1200.40"), "Materials"), ("26", "2026-11-05", D("300.00"), "Rent")]
    assert all(e.run_id == run.id for e in booked)
    session.refresh(p1)
    assert p1.actual_cost == D("1000.00") + D("250.50") + D("1200.40") + D("300.00")
    session.refresh(world["p2"])
    assert world["p2"].actual_cost == D("-50.10")
    assert sorted(run.report["created_cost_accounts"]) == ["20.01", "26"]


def test_actual_costs_roll_up_the_eps(session, world):
    worlds.activity(session, world, world["p2"], "B1", "10.00")
    worlds.activity(session, world, world["p3"], "C1", "7.25")
    data = csv_bytes([("PRJ-1", "20", "2026-11-01", "100.00", "", "D1"),
                      ("PRJ-2", "20", "2026-11-01", "40.50", "", "D1"),
                      ("PRJ-3", "20", "2026-11-01", "1.00", "", "D1")])
    run = costs.import_costs(session, actor=world["admin"], data=data)
    assert run.applied == 3
    east = budgets.figures(session, obj=world["east"]).actual_cost
    root = budgets.figures(session, obj=world["root"]).actual_cost
    assert east == D("100.00") + (D("10.00") + D("40.50"))
    assert root == east + (D("7.25") + D("1.00"))


def test_an_activity_change_after_the_import_keeps_the_expenses(session, world):
    p1 = world["p1"]
    made = worlds.activity(session, world, p1, "A1", "10.00")
    costs.import_costs(session, actor=world["finance"], data=csv_bytes([("PRJ-1", "20", "2026-11-01", "5", "", "")]))
    from wbs import services as wbs_services
    wbs_services.update_activity(session, actor=world["admin"], project=p1, activity=made, actual_cost=D("20.00"))
    session.refresh(p1)
    assert p1.actual_cost == D("25.00")


def test_the_same_file_twice_books_nothing_twice(session, world):
    data = csv_bytes([("PRJ-1", "20", "2026-11-01", "100.00", "Same", "D1"),
                      ("PRJ-1", "20", "2026-11-01", "100.00", "Same", "D1"),  # a second identical line: kept
                      ("PRJ-2", "20", "2026-11-02", "5.00", "", "D2")])
    first = costs.import_costs(session, actor=world["finance"], data=data)
    assert (first.applied, first.duplicates) == (3, 0)
    second = costs.import_costs(session, actor=world["finance"], data=data)
    assert (second.rows, second.applied, second.duplicates, second.unmatched) == (3, 0, 3, 0)
    assert session.scalar(select(func.count()).select_from(ProjectExpense)) == 3
    session.refresh(world["p1"])
    assert world["p1"].actual_cost == D("200.00")
    assert session.scalar(select(func.count()).select_from(AccountingRun)) == 2


def test_rows_matching_no_project_or_one_the_caller_may_not_book_are_reported_without_naming_it(session, world):
    data = csv_bytes([("PRJ-1", "20", "2026-11-01", "10.00", "", ""),
                      ("NOPE", "20", "2026-11-01", "11.00", "", ""),
                      ("PRJ-3", "20", "2026-11-01", "12.00", "", "")])  # west: the finance user has no rights
    run = costs.import_costs(session, actor=world["finance"], data=data)
    assert (run.applied, run.unmatched) == (1, 2)
    assert run.report["unmatched_rows"] == [{"line": 3, "project": "NOPE", "reason": "no such project"},
                                            {"line": 4, "project": "PRJ-3", "reason": "no such project"}]
    assert "Project" not in str(run.report)  # the west project's name is never told
    session.refresh(world["p3"])
    assert world["p3"].actual_cost == D("0.00")


def test_cp1251_with_russian_headers_and_commas(session, world):
    header = ("Код проекта", "Статья затрат", "Дата", "Сумма", "Содержание", "Документ")
    data = csv_bytes([("PRJ-1", "20.01", "01.12.2026", "\"1 000,55\"", "Бетон М300", "Поступление 5")],
                     separator=",", encoding="cp1251", header=header)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    run = costs.import_costs(session, actor=world["finance"], data=data)
    assert run.applied == 1 and run.report["encoding"] == "cp1251" and run.report["separator"] == ","
    (expense,) = expenses_of(session, world["p1"])
    assert expense.description == "Бетон М300" and expense.amount == D("1000.55")


def test_a_file_with_bad_rows_is_refused_whole_naming_each_line(session, world):
    data = csv_bytes([("PRJ-1", "20", "2026-11-01", "10.00", "", ""),
                      ("PRJ-1", "20", "31.02.2026", "10.00", "", ""),
                      ("PRJ-1", "20", "2026-11-01", "12,345", "", ""),
                      ("PRJ-1", "", "2026-11-01", "abc", "", "")])
    with pytest.raises(Invalid) as caught:
        costs.import_costs(session, actor=world["finance"], data=data)
    rows = caught.value.errors["rows"]
    assert {(row["line"], row["column"]) for row in rows} == {(3, "date"), (4, "amount"), (5, "cost_account"),
                                                              (5, "amount")}
    assert session.scalar(select(func.count()).select_from(ProjectExpense)) == 0
    assert session.scalar(select(func.count()).select_from(CostAccount)) == 0


@pytest.mark.parametrize("data, field", [(b"", "file"), (b"project;amount\r\nPRJ-1;1\r\n", "file"),
                                         (b"\x00\x01\x02", "file")])
def test_bad_files_are_refused(session, world, data, field):
    with pytest.raises(Invalid) as caught:
        costs.import_costs(session, actor=world["finance"], data=data)
    assert field in caught.value.errors


def test_only_finance_and_administrators_import(session, world):
    with pytest.raises(Forbidden):
        costs.import_costs(session, actor=world["viewer"], data=csv_bytes([("PRJ-1", "20", "2026-11-01", "1", "", "")]))


def test_known_cost_accounts_are_reused(session, world):
    from wbs.expenses import services as expenses
    known = expenses.create_cost_account(session, actor=world["admin"], code="20", name="Основное производство")
    run = costs.import_costs(session, actor=world["finance"],
                             data=csv_bytes([("PRJ-1", "20", "2026-11-01", "1", "", "")]))
    assert run.report["created_cost_accounts"] == []
    assert expenses_of(session, world["p1"])[0].cost_account_id == known.id


def test_the_xml_variant_in_windows_1251(session, world):
    data = ('<?xml version="1.0" encoding="windows-1251"?>\n'
            '<costs>\n'
            '  <!-- from 1C -->\n'
            '  <cost project="PRJ-1" cost_account="20.01" date="03.11.2026" amount="1 000,50" document="П-1">Бетон</cost>\n'
            '  <cost project="NOPE" cost_account="20.01" date="2026-11-03" amount="5"/>\n'
            '</costs>\n').encode("cp1251")
    run = costs.import_costs(session, actor=world["finance"], data=data, file_name="costs.xml")
    assert (run.rows, run.applied, run.unmatched) == (2, 1, 1)
    assert run.report["unmatched_rows"] == [{"line": 5, "project": "NOPE", "reason": "no such project"}]
    (expense,) = expenses_of(session, world["p1"])
    assert (expense.description, expense.amount) == ("Бетон", D("1000.50"))
    again = costs.import_costs(session, actor=world["finance"], data=data, file_name="costs.xml")
    assert (again.applied, again.duplicates) == (0, 1)


@pytest.mark.parametrize("data", [
    b"<costs><cost project='PRJ-1' cost_account='20' date='2026-13-01' amount='1'/></costs>",
    b"<costs><cost project='PRJ-1'",
    b"<other/>",
    b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><costs><cost project="&b;"/></costs>',
])
def test_bad_xml_is_refused_whole(session, world, data):
    with pytest.raises(Invalid):
        costs.import_costs(session, actor=world["finance"], data=data)
    assert session.scalar(select(func.count()).select_from(ProjectExpense)) == 0
