"""The page helpers on their own: charts, amounts typed by people, pagination, the menu, translations."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Blueprint, g
from flask_babel import force_locale

from crmpm import create_app
from web import charts, i18n, nav
from web.forms import parse_amount
from web.pagination import Page

TRANSLATIONS = Path(i18n.TRANSLATIONS)


@pytest.mark.parametrize("value, expected", [
    (0, 1.0), (1, 1.0), (7, 10.0), (1_200_000, 2_000_000.0), (2_400_000, 2_500_000.0), (7_300_000, 10_000_000.0),
])
def test_nice_ceiling(value, expected):
    assert charts.nice_ceiling(value) == expected


def test_bar_chart_scales_bars_to_the_plot():
    chart = charts.bar_chart(["Jan", "Feb"], [charts.Series("plan", [Decimal(100), Decimal(50)], "a"),
                                              charts.Series("tally", [Decimal(0), Decimal(-5)], "b")],
                             width=200, height=120, left=20, bottom=20, top=0, right=0)
    assert [bar.height for bar in chart.bars] == [100.0, 50.0, 0.0, 0.0][:1] + [0.0, 50.0, 0.0]
    tallest = chart.bars[0]
    assert tallest.y == 0 and tallest.y + tallest.height == chart.plot_bottom
    assert [label for _x, label in chart.labels] == ["Jan", "Feb"]
    assert chart.ticks[0][1] == 0 and chart.ticks[-1][1] == 100


def test_bar_chart_of_nothing_is_empty():
    assert charts.bar_chart([], [charts.Series("x", [], "a")]).bars == []


def test_stacked_bar_fills_the_total():
    segments = charts.stacked_bar([("a", Decimal(30), "x"), ("b", Decimal(70), "y")], width=200)
    assert [(s["x"], s["width"]) for s in segments] == [(0.0, 60.0), (60.0, 140.0)]
    negative = charts.stacked_bar([("a", Decimal(-5), "x")], total=Decimal(10), width=100)
    assert negative[0]["width"] == 0


@pytest.mark.parametrize("text, expected", [
    ("1 500 000,50", Decimal("1500000.50")),
    ("1\u00a0500\u00a0000,50", Decimal("1500000.50")),
    ("1,500,000.50", Decimal("1500000.50")),
    ("1.500.000,50", Decimal("1500000.50")),
    ("-300000", Decimal("-300000")),
    ("\u2212300 000", Decimal("-300000")),
    ("250,5", Decimal("250.5")),
    ("1,500", Decimal("1500")),
    ("abc", None),
    ("NaN", None),
])
def test_amounts_as_people_type_them(text, expected):
    assert parse_amount(text) == expected


def test_page_window_has_gaps():
    page = Page(items=[], page=10, per_page=10, total=200)
    assert page.window() == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert (page.first_index, page.last_index, page.has_prev, page.has_next) == (91, 100, True, True)
    assert Page(items=[], page=1, per_page=10, total=0).window() == []


@pytest.fixture
def bare_app():
    return create_app({"DATABASE_URL": "sqlite://", "TESTING": True})


class _Admin:
    is_admin = True
    locale = "en"


def test_menu_hides_sections_not_built_yet_and_shows_them_once_registered(bare_app, monkeypatch):
    future = nav.Entry("future.board", "Future board", "sales")
    monkeypatch.setattr(nav, "ENTRIES", nav.ENTRIES + (future,))
    with bare_app.test_request_context("/"):
        g.user = _Admin()
        labels = [str(item["label"]) for item in nav.menu()]
    assert "Budgets" in labels and "Users" in labels
    assert "Future board" not in labels

    blueprint = Blueprint("future", __name__)
    blueprint.add_url_rule("/future/board", endpoint="board", view_func=lambda: "board")
    bare_app.register_blueprint(blueprint)
    with bare_app.test_request_context("/"):
        g.user = _Admin()
        items = {str(item["label"]): item["url"] for item in nav.menu()}
    assert items["Future board"] == "/future/board"


def test_money_and_dates_per_locale(bare_app):
    from datetime import date

    with bare_app.test_request_context("/"):
        with force_locale("ru"):
            assert i18n.money(Decimal("1234567.5")) == "1\u00a0234\u00a0567,50\u00a0₽"
            assert i18n.amount(Decimal("-1000")) == "-1\u00a0000,00"
            assert i18n.month(date(2026, 1, 1)) == "янв. 2026"
        with force_locale("en"):
            assert i18n.amount(Decimal("1234567.5")) == "1,234,567.50"
            assert i18n.date_(date(2026, 11, 27)) == "Nov 27, 2026"


def test_base_currency_is_configurable():
    app = create_app({"DATABASE_URL": "sqlite://", "BASE_CURRENCY": "EUR"})
    with app.test_request_context("/"), force_locale("en"):
        assert i18n.money(Decimal("5")) == "€5.00"


def _strings(catalog) -> dict:
    def key(value):
        return value if isinstance(value, str) else tuple(value)

    return {key(m.id): key(m.string) for m in catalog if m.id}


def _catalogs():
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        yield po_path, po_path.with_suffix(".mo")


def test_every_message_is_translated_and_compiled():
    found = list(_catalogs())
    assert found, "no translations shipped"
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    for po_path, mo_path in found:
        catalog = read_po(po_path.open("rb"))
        untranslated = [m.id for m in catalog if m.id and not (all(m.string) if m.pluralizable else m.string)]
        assert not untranslated, f"{po_path}: untranslated {untranslated}"
        assert {m.id for m in template if m.id} <= {m.id for m in catalog if m.id}, "run `make messages`"
        assert mo_path.exists(), f"{mo_path} missing: run `make translations`"
        compiled = read_mo(mo_path.open("rb"))
        assert _strings(compiled) == _strings(catalog), \
            f"{mo_path} is older than {po_path}: run `make translations`"


def test_templates_use_only_extracted_messages():
    """Every text the pages translate is in the template catalog (so none is left in English)."""
    from babel.messages.extract import extract_from_dir

    root = Path(i18n.__file__).resolve().parent
    extracted = {message for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None})}
    ids = {message if isinstance(message, str) else message[0] for message in extracted}
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po((TRANSLATIONS / "messages.pot").open("rb"))
                if m.id}
    assert ids <= template, f"not in messages.pot (run `make messages`): {sorted(ids - template)}"
