"""Rows repeating a record of the file: counted once, product lines gathered, different values an error."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from accounts.models import Account, Deal
from tests import factories

# amoCRM writes a deal once per product line: the deal's columns repeat, the product columns change.
DEALS = {
    "columns": {"ID": "external_id", "Название": "title", "Компания": "account", "Этап": "stage",
                "Товар": "line_product", "Количество": "line_quantity", "Цена": "line_price"},
    "defaults": {"currency": "RUB"},
    "pipeline": "Продажи",
}
DEALS_CSV = (
    "ID,Название,Компания,Этап,Товар,Количество,Цена\n"
    'D1,Поставка насосов,ACC-1,Переговоры,Насос ЦН-100,2,"10 000,00"\n'   # line 2
    'D1,Поставка насосов,ACC-1,Переговоры,Клапан КШ-50,5,"1 500,50"\n'   # line 3: a second product line
    'D1,Поставка насосов,ACC-1,Переговоры,Клапан КШ-50,5,"1 500,50"\n'   # line 4: the same row again
    "D2,Сервис,ACC-1,Переговоры,,,\n"                                     # line 5
    "D2,Сервис,ACC-1,Переговоры,,,\n"                                     # line 6: the same row again
    "D3,Аудит,ACC-1,Переговоры,,,\n"                                      # line 7
    "D3,Аудит склада,ACC-1,Переговоры,,,\n"                               # line 8: same id, another title
)


def _world(session, world):
    factories.account(session, actor=world["admin"], region=world["A"], name="ООО Насосы", external_id="ACC-1")
    session.commit()


def _lines(deal):
    return [(line.product, line.quantity, line.unit_price) for line in deal.lines]


def test_repeated_rows_are_one_record_and_their_product_lines_the_deals(session, world, run):
    _world(session, world)
    report = run(world["admin"], "deals", DEALS_CSV, DEALS, partial=True)
    # 7 rows: 3 deals, 3 rows repeating an earlier one (lines 3, 4 and 6), 1 error (line 8).
    assert (report.rows, report.created, report.repeated, report.error_lines) == (7, 3, 3, [8])
    (error,) = report.errors
    assert (error.line, error.column, error.value) == (8, "Название", "Аудит склада")
    assert "also on line 7" in error.reason and "'Название'" in error.reason
    deals = {deal.external_id: deal for deal in session.scalars(select(Deal))}
    assert _lines(deals["D1"]) == [("Насос ЦН-100", Decimal("2"), Decimal("10000.00")),
                                   ("Клапан КШ-50", Decimal("5"), Decimal("1500.50"))]
    # No amount column: the deal's amount is its lines' total.
    assert deals["D1"].amount == Decimal("2") * Decimal("10000.00") + Decimal("5") * Decimal("1500.50")
    assert _lines(deals["D2"]) == [] and deals["D3"].name == "Аудит"

    again = run(world["admin"], "deals", DEALS_CSV, DEALS, partial=True)
    assert (again.created, again.updated, again.unchanged, again.repeated) == (0, 0, 3, 3)
    assert _lines(session.get(Deal, deals["D1"].id)) == _lines(deals["D1"])


def test_a_repeat_with_other_values_refuses_the_file_and_the_count_is_not_inflated(session, world, run):
    _world(session, world)
    dry = run(world["admin"], "deals", DEALS_CSV, DEALS, dry_run=True)
    real = run(world["admin"], "deals", DEALS_CSV, DEALS)
    assert not real.committed and session.scalar(select(func.count()).select_from(Deal)) == 0
    assert real.refusal().params["bad"] == 1  # one row is wrong, not the four repeating another
    assert {**dry.counts(), "dry_run": None} == {**real.counts(), "dry_run": None}
    assert dry.errors == real.errors


def test_an_incomplete_product_line_is_an_error_on_its_own_line(session, world, run):
    _world(session, world)
    text = ("ID,Название,Компания,Этап,Товар,Количество,Цена\n"
            "D1,Поставка,ACC-1,Переговоры,Насос,1,100\n"
            "D1,Поставка,ACC-1,Переговоры,Клапан,2,\n")
    report = run(world["admin"], "deals", text, DEALS, partial=True)
    assert report.created == 1 and [(e.line, e.column) for e in report.errors] == [(3, "Цена")]
    (deal,) = session.scalars(select(Deal)).all()
    assert _lines(deal) == [("Насос", Decimal("1"), Decimal("100.00"))]


def test_a_company_repeated_in_a_spreadsheet_is_one_account(session, world, run):
    mapping = {"columns": {"ИД": "external_id", "Название": "name", "ИНН": "tax_id"}, "defaults": {"region": "A"}}
    text = ("ИД,Название,ИНН\n"
            "K1,ООО Ладога,7707083893\n"
            "K2,АО Весна,\n"
            "K1,ООО Ладога,7707083893\n")
    report = run(world["admin"], "accounts", text, mapping)
    assert report.committed and (report.created, report.repeated, report.errors) == (2, 1, [])
    assert session.scalar(select(func.count()).select_from(Account).where(Account.external_id == "K1")) == 1
    assert "1 repeating an earlier row" in report.summary()
