"""The 1CClientBankExchange reader on files written as 1C's published description lays them out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.billing.statement_format import (
    INCOMING, OTHER, OUTGOING, StatementError, dedup_key, direction, read_statement)
from tests.accounts.billing.statements import OUR_ACCOUNT, cp1251, header, incoming, outgoing, statement


def test_a_cp1251_statement_is_read_with_its_header_and_documents():
    data = cp1251(statement(incoming(), outgoing()))
    read = read_statement(data)
    assert read.encoding == "cp1251"
    assert read.version == "1.03"
    assert read.accounts == [OUR_ACCOUNT]
    assert (read.date_from, read.date_to) == (date(2026, 12, 1), date(2026, 12, 5))
    first, second = read.documents
    assert first.kind == "Платежное поручение"
    assert first.number == "512" and first.date == date(2026, 12, 3)
    assert first.amount == Decimal("12000.00")
    assert first.payer_name == 'ООО "Ладога"' and first.payer_inn == "7707083893"
    assert first.payer_account == "40702810500000000777" and first.payee_account == OUR_ACCOUNT
    assert first.received_on == date(2026, 12, 4) and first.paid_on == date(2026, 12, 4)
    assert first.purpose == "Оплата по счету № 17 от 01.12.2026, в т.ч. НДС"
    assert second.payer_name == 'ИНН 7701234567 ООО "Наша компания"'  # Плательщик when Плательщик1 is absent


def test_incoming_outgoing_and_other_documents_are_told_apart_by_our_account():
    read = read_statement(cp1251(statement(incoming(), outgoing(), incoming(account="40702810000000000999"))))
    ours = {OUR_ACCOUNT}
    assert [direction(doc, ours) for doc in read.documents] == [INCOMING, OUTGOING, OTHER]


def test_utf8_is_read_when_the_file_declares_it():
    read = read_statement(statement(incoming(payer="ИП Ёлкин"), encoding="UTF-8").encode("utf-8"))
    assert read.encoding == "utf-8"
    assert read.documents[0].payer_name == "ИП Ёлкин"


def test_a_file_declaring_windows_but_written_in_utf8_is_read_as_utf8():
    read = read_statement(statement(incoming(payer="ИП Ёлкин")).encode("utf-8"))
    assert read.documents[0].payer_name == "ИП Ёлкин"


def test_dos_encoding_is_cp866():
    read = read_statement(statement(incoming(payer="ИП Щукин"), encoding="DOS").encode("cp866"))
    assert read.encoding == "cp866" and read.documents[0].payer_name == "ИП Щукин"


def test_a_document_without_received_date_is_paid_on_its_date():
    read = read_statement(cp1251(statement(incoming(received=None))))
    assert read.documents[0].paid_on == date(2026, 12, 3)


def test_older_purpose_lines_are_joined():
    text = statement(incoming()).replace("НазначениеПлатежа=Оплата по счету № 17 от 01.12.2026, в т.ч. НДС\r\n",
                                         "НазначениеПлатежа1=Оплата по счету\r\nНазначениеПлатежа2=№ 17\r\n")
    assert read_statement(cp1251(text)).documents[0].purpose == "Оплата по счету № 17"


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.split("\r\n"), start=1) if fragment in line)


@pytest.mark.parametrize("broken, fragment, reason", [
    ("Сумма=12000.00", "Сумма=12 000,00", "is not an amount"),
    ("Сумма=12000.00", "Сумма=-5.00", "is not an amount"),
    ("Дата=03.12.2026", "Дата=2026-12-03", "is not a date"),
    ("Дата=03.12.2026", "Дата=31.02.2026", "is not a date"),
    ("Очередность=5", "Очередность 5", "expected Key=Value"),
    ("Очередность=5", "Очередность=5\r\nОчередность=4", "given twice"),
])
def test_a_broken_line_is_named(broken, fragment, reason):
    text = statement(incoming()).replace(broken, fragment)
    with pytest.raises(StatementError) as caught:
        read_statement(cp1251(text))
    line = _line_of(text, fragment.split("\r\n")[-1])
    assert caught.value.line == line and reason in caught.value.reason
    assert str(caught.value).startswith(f"line {line}:")


def test_a_file_cut_short_is_refused():
    text = header() + incoming()  # no КонецФайла
    with pytest.raises(StatementError, match="КонецФайла"):
        read_statement(cp1251(text))
    with pytest.raises(StatementError, match="never ends") as caught:
        read_statement(cp1251(header() + incoming().replace("КонецДокумента\r\n", "")))
    assert caught.value.line == _line_of(header() + incoming(), "СекцияДокумент")


def test_a_document_opened_inside_another_is_refused():
    text = statement(incoming().replace("КонецДокумента\r\n", ""), incoming(number="513"))
    with pytest.raises(StatementError, match="a new document before"):
        read_statement(cp1251(text))


def test_a_document_without_amount_is_refused_at_its_opening_line():
    text = statement(incoming().replace("Сумма=12000.00\r\n", ""))
    with pytest.raises(StatementError, match="no Сумма") as caught:
        read_statement(cp1251(text))
    assert caught.value.line == _line_of(text, "СекцияДокумент")


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"Hello,world\r\n1,2\r\n", "not a 1CClientBankExchange"),
    (cp1251(statement(incoming(), encoding="KOI8")), "unknown encoding"),
])
def test_not_a_statement_is_refused(data, reason):
    with pytest.raises(StatementError, match=reason):
        read_statement(data)


def test_bytes_that_are_not_cp1251_name_their_line():
    data = cp1251(statement(incoming())).replace("ООО".encode("cp1251"), b"\x98\x98", 1)
    with pytest.raises(StatementError, match="not cp1251") as caught:
        read_statement(data)
    assert caught.value.line == _line_of(statement(incoming()), "ООО")


def test_the_dedup_key_is_the_same_for_the_same_payment_and_differs_when_a_part_differs():
    same = [read_statement(cp1251(statement(incoming()))).documents[0] for _ in range(2)]
    assert dedup_key(same[0]) == dedup_key(same[1])
    others = [incoming(number="513"), incoming(day="02.12.2026"), incoming(amount="12000.01"),
              incoming(payer_account="40702810500000000778"), incoming(purpose="Оплата по счету № 18")]
    keys = {dedup_key(read_statement(cp1251(statement(doc))).documents[0]) for doc in others}
    assert len(keys) == len(others) and dedup_key(same[0]) not in keys
