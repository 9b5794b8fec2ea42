"""What the reading layer gives the import: warnings in the report (CLI, API, job), several phones and e-mails as a
contact's channels, .xlsx workbooks and their sheet, and bad workbooks refused with 422."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from accounts.imports import import_csv
from accounts.models import Account, ChannelKind, ChannelType, Contact, Deal
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures
from tests.accounts.test_import import world  # noqa: F401 - fixture

CONTACTS_MAPPING = {"columns": {"ID": "external_id", "Имя": "first_name", "Фамилия": "last_name",
                                "Компания": "account", "Рабочий телефон": "phone_work",
                                "Мобильный телефон": "phone_mobile", "Рабочий email": "email_work",
                                "Личный email": "email_home"}}
# cp1251, ";" and CRLF; line 2 has two work phones and two e-mails, line 3 a number that cannot be normalized.
CONTACTS = ("ID;Имя;Фамилия;Компания;Рабочий телефон;Мобильный телефон;Рабочий email;Личный email\r\n"
            'C1;Иван;Петров;ACC-A;"8 495 111-22-33, 8 (495) 222-33-44";8 916 123-45-67;'
            '"ivan@romashka.ru; sales@romashka.ru";ivan@mail.ru\r\n'
            "C2;Анна;Смирнова;ACC-A;12-34;+7 903 111-22-33;;\r\n")


def _files(tmp_path, data: bytes, mapping: dict, name: str = "contacts.csv"):
    path, mapping_path = tmp_path / name, tmp_path / "mapping.json"
    path.write_bytes(data)
    mapping_path.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    return path, mapping_path


def _channels(contact: Contact) -> list[tuple[str, str, str]]:
    return [(c.type.value, c.kind.value, c.value) for c in sorted(contact.channels, key=lambda c: (c.type.value,
                                                                                                   c.position))]


def test_several_phones_and_e_mails_become_typed_channels_and_a_bad_phone_a_warning(session, admin, world,
                                                                                   tmp_path):
    path, mapping = _files(tmp_path, CONTACTS.encode("cp1251"), CONTACTS_MAPPING)
    dry = import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping, dry_run=True)
    real = import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping)
    session.commit()
    # The dry run tells what the real run does, warnings included.
    assert {**dry.to_dict(), "dry_run": None, "committed": None} == {**real.to_dict(), "dry_run": None,
                                                                     "committed": None}
    assert (real.created, real.errors, real.committed) == (2, [], True)
    report = real.to_dict()
    assert report["warnings_total"] == 1
    (warning,) = report["warnings"]
    assert (warning["line"], warning["column"], warning["field"], warning["value"]) == (
        3, "Рабочий телефон", "phone_work", "12-34")
    assert "cannot be normalized" in warning["reason"]

    ivan = session.scalar(select(Contact).where(Contact.external_id == "C1"))
    assert _channels(ivan) == [
        ("email", "work", "ivan@romashka.ru"), ("email", "work", "sales@romashka.ru"), ("email", "home", "ivan@mail.ru"),
        ("phone", "work", "+74951112233"), ("phone", "work", "+74952223344"), ("phone", "mobile", "+79161234567")]
    assert (ivan.phone, ivan.email) == ("+74951112233", "ivan@romashka.ru")
    anna = session.scalar(select(Contact).where(Contact.external_id == "C2"))
    assert _channels(anna) == [("phone", "mobile", "+79031112233")] and anna.phone == "+79031112233"

    again = import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping)
    session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)

    # Only a second number changes: the contact is updated (its first phone, Contact.phone, is the same).
    changed = CONTACTS.replace("8 (495) 222-33-44", "8 (495) 999-88-77")
    path, mapping = _files(tmp_path, changed.encode("cp1251"), CONTACTS_MAPPING, name="changed.csv")
    third = import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping)
    session.commit()
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    session.refresh(ivan)
    assert [c[2] for c in _channels(ivan) if c[0] == "phone"] == ["+74951112233", "+74959998877", "+79161234567"]


def test_a_re_import_replaces_the_phones_it_maps_and_keeps_the_e_mails_it_does_not(session, admin, world,
                                                                                  tmp_path):
    path, mapping = _files(tmp_path, CONTACTS.encode("cp1251"), CONTACTS_MAPPING)
    import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping)
    phones_only = {"columns": {"ID": "external_id", "Имя": "first_name", "Фамилия": "last_name",
                               "Компания": "account", "Телефон": "phone"}}
    path, mapping = _files(tmp_path, "ID;Имя;Фамилия;Компания;Телефон\r\nC1;Иван;Петров;ACC-A;8 812 000-11-22\r\n"
                           .encode("cp1251"), phones_only, name="phones.csv")
    report = import_csv(session, actor=admin, kind="contacts", path=path, mapping=mapping)
    session.commit()
    assert report.updated == 1
    ivan = session.scalar(select(Contact).where(Contact.external_id == "C1"))
    assert [c for c in _channels(ivan) if c[0] == "phone"] == [("phone", "work", "+78120001122")]
    assert [c[2] for c in _channels(ivan) if c[0] == "email"] == ["ivan@romashka.ru", "sales@romashka.ru",
                                                                  "ivan@mail.ru"]
    assert ChannelType.phone and ChannelKind.work  # the stored kinds are the model's own


def _deals_workbook(*, first_sheet: str = "Сделки") -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Инструкция"
    workbook.active.append(["Выгрузка сделок из amoCRM"])
    sheet = workbook.create_sheet(first_sheet)
    sheet.append(["ID", "Название", "Компания", "Бюджет", "Валюта", "Дата создания", "Этап"])
    sheet.append([501, "Насосы", "ACC-A", 1250000.5, "Российский рубль", datetime(2026, 4, 5, 10, 0), "Qualification"])
    sheet.append([502, "Клапаны", "Client A", 250000, "руб.", date(2026, 4, 6), "Qualification"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_MAPPING = {"columns": {"ID": "external_id", "Название": "title", "Компания": "account", "Бюджет": "amount",
                            "Валюта": "currency", "Дата создания": "engaged_at", "Этап": "stage"},
                "pipeline": "Sales"}


def test_an_xlsx_workbook_is_imported_from_its_named_sheet(session, admin, world, tmp_path):
    path, mapping = _files(tmp_path, _deals_workbook(), XLSX_MAPPING, name="upload.csv")  # named as the edges name it
    report = import_csv(session, actor=admin, kind="deals", path=path, mapping=mapping, sheet="Сделки")
    session.commit()
    assert (report.created, report.errors, report.committed) == (2, [], True)
    deals = {deal.external_id: deal for deal in session.scalars(select(Deal).where(Deal.external_id.in_(["501",
                                                                                                          "502"])))}
    assert (deals["501"].amount, deals["501"].currency) == (Decimal("1250000.50"), "RUB")
    assert (deals["502"].amount, deals["502"].currency) == (Decimal("250000"), "RUB")
    assert deals["502"].account_id == world["A"]["account"].id


def _post(api, user, data: bytes, mapping: dict, query: str = "", name: str = "deals.xlsx"):
    return api.post(f"/api/v1/imports/deals{query}", user=user, json=None, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), name), "mapping": json.dumps(mapping, ensure_ascii=False)})


def test_the_api_takes_a_sheet_and_answers_warnings(api, session, admin, world, tmp_path):
    answer = _post(api, admin, _deals_workbook(), XLSX_MAPPING, "?dry_run=true&sheet=Сделки")
    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["warnings"], answer.json["warnings_total"]) == (2, [], 0)
    # Without the sheet the first one (an instruction) is read: its header lacks the mapped columns.
    first = _post(api, admin, _deals_workbook(), XLSX_MAPPING, "?dry_run=true")
    assert first.status_code == 422 and "no column 'ID'" in first.json["message"]
    missing = _post(api, admin, _deals_workbook(), XLSX_MAPPING, "?dry_run=true&sheet=Deals")
    assert missing.status_code == 422 and "no sheet 'Deals'" in missing.json["message"]

    # A file refused as a whole (all or nothing) lists its warnings beside its row errors.
    refused = api.post("/api/v1/imports/contacts", user=admin, json=None, content_type="multipart/form-data",
                       data={"file": (io.BytesIO((CONTACTS + "C3;;;ACC-A;;;;\r\n").encode("cp1251")), "c.csv"),
                             "mapping": json.dumps(CONTACTS_MAPPING, ensure_ascii=False)})
    assert refused.status_code == 422
    assert [row["line"] for row in refused.json["errors"]["rows"]] == [4]
    assert [(w["line"], w["value"]) for w in refused.json["errors"]["warnings"]] == [(3, "12-34")]

    contacts = api.post("/api/v1/imports/contacts?dry_run=true", user=admin, json=None,
                        content_type="multipart/form-data",
                        data={"file": (io.BytesIO(CONTACTS.encode("cp1251")), "c.csv"),
                              "mapping": json.dumps(CONTACTS_MAPPING, ensure_ascii=False)})
    assert contacts.status_code == 200
    assert [(w["line"], w["column"], w["value"]) for w in contacts.json["warnings"]] == [
        (3, "Рабочий телефон", "12-34")]


def test_bad_workbooks_answer_422_never_500(api, session, admin, world):
    good = _deals_workbook()
    for data, words in [(good[:3000], "damaged"),
                        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "save it as"),
                        (b"PK\x03\x04" + b"\x00" * 100, "damaged")]:
        answer = _post(api, admin, data, XLSX_MAPPING, "?sheet=Сделки")
        assert answer.status_code == 422, answer.json
        assert words in answer.json["message"]
    assert session.scalar(select(Account).where(Account.name == "Насосы")) is None
