"""Small files shaped like amoCRM's and Bitrix24's exports (their column names and order, encodings,
separators), and the README's walk-through steps read from the README itself.

They carry the traits the import has to read: a contact and a deal without a company (B2C), a full name
with a patronymic, a cell with two phones, a second funnel in the same deals file, a deal written on two
rows (one per product), and Bitrix24's interface export (cp1251, ";", the column ID three times, the
currency by name).
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def walkthrough(name: str) -> list[list[str]]:
    """The commands of the README's walk-through ``name`` (the sh block after ``<!-- walkthrough: name -->``)."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- walkthrough: {re.escape(name)} -->\n```sh\n(.*?)```", text, re.S)
    assert found, f"the README has no walk-through {name!r}"
    return [shlex.split(line) for line in found.group(1).splitlines() if line.strip() and not line.startswith("#")]


def write_csv(path: Path, header: list[str], rows: list[dict], *, encoding: str, delimiter: str,
              newline: str = "\r\n") -> None:
    """A CSV as the CRM writes it: every cell quoted, the given encoding, separator and line ends."""
    def cell(value) -> str:
        return '"' + str(value).replace('"', '""') + '"'

    lines = [delimiter.join(cell(name) for name in header)]
    lines += [delimiter.join(cell(row.get(name, "")) for name in header) for row in rows]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))


def rub(text: str) -> Decimal:
    """A Russian money cell ("1 250 000,50 ₽", "2 900 000 руб.") as a number, read here independently."""
    plain = text.replace("₽", "").replace("руб.", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    return Decimal(plain) if plain else Decimal("0")


# amoCRM (Russian interface), "Экспорт" of companies, contacts and deals: UTF-8 with a BOM, ";".

AMO_COMPANY_HEADER = ["ID", "Название компании", "Ответственный", "Дата создания", "Кем создана", "Дата изменения",
                      "Кем изменена", "Теги", "Примечание", "Рабочий телефон", "Рабочий email", "Web", "Адрес"]
AMO_COMPANIES = [
    {"ID": "30117", "Название компании": "ООО «Ладога Порт»", "Ответственный": "Иван Петров",
     "Дата создания": "12.01.2024 10:15:02", "Кем создана": "Иван Петров", "Рабочий телефон": "+7 812 555-01-02"},
    {"ID": "30121", "Название компании": "АО «Северсталь-Логистик»", "Ответственный": "Смирнова",
     "Дата создания": "15.01.2024 12:00:00", "Кем создана": "Смирнова", "Теги": "логистика"},
    {"ID": "30125", "Название компании": "ИП Кравец А. В.", "Ответственный": "Оля К.",
     "Дата создания": "02.02.2024 09:30:41", "Кем создана": "Оля К."},
    {"ID": "30130", "Название компании": "ООО «Жилстрой-Юг»", "Ответственный": "Дмитрий Волков",
     "Дата создания": "20.02.2024 16:45:00", "Кем создана": "Дмитрий Волков", "Web": "zhilstroy-yug.ru"},
]

AMO_CONTACT_HEADER = ["ID", "Полное имя", "Компания", "Ответственный", "Дата создания", "Кем создана",
                      "Дата изменения", "Теги", "Примечание", "Должность", "Рабочий телефон", "Мобильный телефон",
                      "Рабочий email", "Личный email"]
AMO_CONTACTS = [
    {"ID": "41001", "Полное имя": "Анна Соколова", "Компания": "ООО «Ладога Порт»", "Ответственный": "Иван Петров",
     "Дата создания": "12.01.2024 10:20:00", "Должность": "Директор по закупкам",
     "Рабочий телефон": "+7 812 555-01-03", "Рабочий email": "sokolova@ladoga-port.ru"},
    {"ID": "41002", "Полное имя": "Павел Орлов", "Компания": "АО «Северсталь-Логистик»", "Ответственный": "Смирнова",
     "Дата создания": "15.01.2024 12:10:00", "Мобильный телефон": "8 (921) 555-44-33",
     "Рабочий email": "orlov@ssl.ru"},
    {"ID": "41003", "Полное имя": "Андрей Кравец", "Компания": "ИП Кравец А. В.", "Ответственный": "Оля К.",
     "Дата создания": "02.02.2024 09:35:00", "Мобильный телефон": "+7 903 111-22-33"},
    # A private client (no company): a full name in the Russian order with a patronymic, two work phones in
    # one cell.
    {"ID": "41004", "Полное имя": "Кузьмин Олег Петрович", "Компания": "", "Ответственный": "Иван Петров",
     "Дата создания": "05.03.2024 18:05:00", "Рабочий телефон": "+7 (495) 765-43-21, 8 495 765-43-22",
     "Мобильный телефон": "+7 916 123-45-67", "Личный email": "kuzmin.oleg@mail.ru"},
]

AMO_DEAL_HEADER = ["ID", "Название сделки", "Бюджет", "Ответственный", "Дата создания", "Кем создана",
                   "Дата изменения", "Кем изменена", "Дата закрытия", "Теги", "Примечание", "Этап сделки", "Воронка",
                   "Полное имя контакта", "Компания контакта", "Ответственный за контакт", "Компания",
                   "Рабочий телефон (контакт)", "Мобильный телефон (контакт)", "Рабочий email (контакт)",
                   "Товар", "Количество", "Цена"]


def _amo_deal(deal_id, title, budget, owner, created, stage, company, closed="", funnel="Воронка", **more):
    return {"ID": deal_id, "Название сделки": title, "Бюджет": budget, "Ответственный": owner,
            "Дата создания": created, "Кем создана": owner, "Дата закрытия": closed, "Этап сделки": stage,
            "Воронка": funnel, "Компания": company, "Компания контакта": company, **more}


# The B2C contact as a deal row repeats them (the "(контакт)" columns).
_KUZMIN = {"Полное имя контакта": "Кузьмин Олег Петрович", "Ответственный за контакт": "Иван Петров",
           "Рабочий телефон (контакт)": AMO_CONTACTS[3]["Рабочий телефон"],
           "Мобильный телефон (контакт)": AMO_CONTACTS[3]["Мобильный телефон"]}


AMO_DEALS = [
    _amo_deal("51001", "Причал №3: краны", "1 250 000,50 ₽", "Иван Петров", "15.01.2024 11:00:00",
              "Успешно реализовано", "ООО «Ладога Порт»", "28.03.2024 17:00:00"),
    # One deal, two products: amoCRM writes it once per product.
    _amo_deal("51002", "Склад на Обводном", "2 900 000 руб.", "Иван Петров", "20.01.2024 10:00:00",
              "Переговоры", "ООО «Ладога Порт»", **{"Товар": "Стеллажи", "Количество": "10", "Цена": "150 000"}),
    _amo_deal("51002", "Склад на Обводном", "2 900 000 руб.", "Иван Петров", "20.01.2024 10:00:00",
              "Переговоры", "ООО «Ладога Порт»", **{"Товар": "Погрузчик", "Количество": "1", "Цена": "1 400 000"}),
    _amo_deal("51003", "Перевозка металлопроката", "480 000", "Смирнова", "16.01.2024 09:00:00",
              "Закрыто и не реализовано", "АО «Северсталь-Логистик»", "01.03.2024 12:00:00"),
    _amo_deal("51004", "Контейнерная площадка", "760 000", "Смирнова", "05.02.2024 14:30:00",
              "Принимают решение", "АО «Северсталь-Логистик»"),
    _amo_deal("51005", "Ремонт офиса", "95 000", "Оля К.", "03.02.2024 10:00:00",
              "Успешно реализовано", "ИП Кравец А. В.", "19.02.2024 15:00:00"),
    _amo_deal("51006", "Жилой квартал: сети", "3 400 000", "Дмитрий Волков", "21.02.2024 10:00:00",
              "Первичный контакт", "ООО «Жилстрой-Юг»"),
    _amo_deal("51007", "Жилой квартал: благоустройство", "1 100 000", "Дмитрий Волков", "22.02.2024 10:00:00",
              "Согласование договора", "ООО «Жилстрой-Юг»"),
    # B2C: no company; the contact is the private client of the contacts file, found by name and phone.
    _amo_deal("51008", "Ремонт квартиры на Соколе", "450 000", "Иван Петров", "06.03.2024 12:00:00",
              "Переговоры", "", **_KUZMIN),
    # A second funnel in the same file, with a stage of its own.
    _amo_deal("51009", "Дилер: Казань", "300 000", "Смирнова", "01.03.2024 10:00:00", "Заявка дилера",
              "АО «Северсталь-Логистик»", funnel="Дилеры"),
    _amo_deal("51010", "Дилер: Самара", "1 500 000", "Смирнова", "02.03.2024 10:00:00", "Успешно реализовано",
              "АО «Северсталь-Логистик»", "20.03.2024 10:00:00", funnel="Дилеры"),
    _amo_deal("51011", "Дилер: Уфа", "200 000", "Иван Петров", "03.03.2024 10:00:00", "Закрыто и не реализовано",
              "ООО «Ладога Порт»", "15.03.2024 10:00:00", funnel="Дилеры"),
    _amo_deal("51012", "Дилер: Пермь", "250 000", "Иван Петров", "04.03.2024 10:00:00", "Заявка дилера",
              "ООО «Ладога Порт»", funnel="Дилеры"),
]

# Bitrix24 by the REST API's field names (crm.company.list, crm.contact.list, crm.deal.list written out as CSV):
# UTF-8, ",", ISO dates with their zone, ids for users, companies and contacts.

B24_COMPANY_HEADER = ["ID", "TITLE", "COMPANY_TYPE", "INDUSTRY", "EMPLOYEES", "CURRENCY_ID", "REVENUE", "OPENED",
                      "COMMENTS", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY",
                      "LEAD_ID"]
B24_COMPANIES = [
    {"ID": "12", "TITLE": "ООО «Балтийский терминал»", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "DELIVERY",
     "EMPLOYEES": "EMPLOYEES_2", "CURRENCY_ID": "RUB", "REVENUE": "150000000", "OPENED": "Y", "ASSIGNED_BY_ID": "7",
     "CREATED_BY_ID": "1", "MODIFY_BY_ID": "7", "DATE_CREATE": "2024-01-10T09:00:00+03:00",
     "DATE_MODIFY": "2024-03-01T10:00:00+03:00", "LEAD_ID": ""},
    {"ID": "14", "TITLE": "АО «Волга-Строй»", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "MANUFACTURING",
     "EMPLOYEES": "EMPLOYEES_3", "CURRENCY_ID": "RUB", "REVENUE": "", "OPENED": "Y", "ASSIGNED_BY_ID": "9",
     "CREATED_BY_ID": "9", "MODIFY_BY_ID": "9", "DATE_CREATE": "2024-01-22T14:00:00+03:00",
     "DATE_MODIFY": "2024-02-02T10:00:00+03:00", "LEAD_ID": ""},
]

B24_CONTACT_HEADER = ["ID", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "BIRTHDATE", "TYPE_ID", "SOURCE_ID",
                      "POST", "COMMENTS", "OPENED", "EXPORT", "ASSIGNED_BY_ID", "CREATED_BY_ID", "DATE_CREATE",
                      "DATE_MODIFY", "COMPANY_ID", "LEAD_ID"]
B24_CONTACTS = [
    {"ID": "101", "NAME": "Сергей", "SECOND_NAME": "Викторович", "LAST_NAME": "Морозов", "TYPE_ID": "CLIENT", "SOURCE_ID": "CALL",
     "POST": "Коммерческий директор", "OPENED": "Y", "EXPORT": "Y", "ASSIGNED_BY_ID": "7", "CREATED_BY_ID": "7",
     "DATE_CREATE": "2024-01-10T09:30:00+03:00", "DATE_MODIFY": "2024-01-10T09:30:00+03:00", "COMPANY_ID": "12"},
    {"ID": "103", "NAME": "Елена", "SECOND_NAME": "Андреевна", "LAST_NAME": "Зайцева", "TYPE_ID": "CLIENT", "SOURCE_ID": "WEB",
     "POST": "Главный инженер", "OPENED": "Y", "EXPORT": "Y", "ASSIGNED_BY_ID": "9", "CREATED_BY_ID": "9",
     "DATE_CREATE": "2024-01-22T14:10:00+03:00", "DATE_MODIFY": "2024-01-22T14:10:00+03:00", "COMPANY_ID": "14"},
    # A private client: no company (COMPANY_ID 0).
    {"ID": "105", "NAME": "Тимур", "SECOND_NAME": "Рашидович", "LAST_NAME": "Галиев", "TYPE_ID": "CLIENT",
     "SOURCE_ID": "WEB", "POST": "", "OPENED": "Y", "EXPORT": "Y", "ASSIGNED_BY_ID": "7", "CREATED_BY_ID": "7",
     "DATE_CREATE": "2024-02-25T11:00:00+03:00", "DATE_MODIFY": "2024-02-25T11:00:00+03:00", "COMPANY_ID": "0"},
]

B24_DEAL_HEADER = ["ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "IS_NEW", "PROBABILITY",
                   "CURRENCY_ID", "OPPORTUNITY", "COMPANY_ID", "CONTACT_ID", "BEGINDATE", "CLOSEDATE", "OPENED",
                   "CLOSED", "COMMENTS", "ASSIGNED_BY_ID", "CREATED_BY_ID", "DATE_CREATE", "DATE_MODIFY", "LEAD_ID",
                   "SOURCE_ID"]


def _b24_deal(deal_id, title, stage, amount, company, contact, owner, created):
    semantic = {"WON": "S", "LOSE": "F", "APOLOGY": "F"}.get(stage, "P")
    return {"ID": deal_id, "TITLE": title, "TYPE_ID": "SALE", "CATEGORY_ID": "0", "STAGE_ID": stage,
            "STAGE_SEMANTIC_ID": semantic, "IS_NEW": "N", "CURRENCY_ID": "RUB", "OPPORTUNITY": amount,
            "COMPANY_ID": company, "CONTACT_ID": contact, "BEGINDATE": created[:10] + "T03:00:00+03:00",
            "CLOSEDATE": "2024-06-30T03:00:00+03:00", "OPENED": "Y", "CLOSED": "Y" if semantic != "P" else "N",
            "ASSIGNED_BY_ID": owner, "CREATED_BY_ID": owner, "DATE_CREATE": created, "DATE_MODIFY": created,
            "LEAD_ID": "0", "SOURCE_ID": "CALL"}


B24_DEALS = [
    _b24_deal("201", "Терминал: погрузчики", "WON", "4200000.00", "12", "101", "7", "2024-01-11T10:00:00+03:00"),
    _b24_deal("203", "Терминал: сервис", "EXECUTING", "600000.00", "12", "101", "7", "2024-02-01T10:00:00+03:00"),
    _b24_deal("205", "Цех №2: вентиляция", "LOSE", "1800000.00", "14", "103", "9", "2024-01-25T10:00:00+03:00"),
    _b24_deal("207", "Цех №2: кровля", "PREPARATION", "2500000.00", "14", "103", "9", "2024-02-05T10:00:00+03:00"),
    _b24_deal("209", "Цех №3: проект", "NEW", "0.00", "14", "0", "1", "2024-02-20T10:00:00+03:00"),
    _b24_deal("211", "Склад: стеллажи", "APOLOGY", "350000.00", "12", "0", "1", "2024-02-21T10:00:00+03:00"),
    # B2C: no company, the private client's deal.
    _b24_deal("213", "Дача: отопление", "EXECUTING", "380000.00", "0", "105", "7", "2024-02-26T10:00:00+03:00"),
]

# Bitrix24's interface export ("Экспорт в CSV"): cp1251, ";", CRLF; names for stages, companies, contacts and
# owners, money with a decimal comma and the currency by name. The deals header repeats ID (the deal's, then its
# company's and its contact's, as the export had it).

B24_UI_OWNERS = {"1": "Администратор", "7": "Иван Петров", "9": "Мария Смирнова"}
B24_UI_INDUSTRIES = {"DELIVERY": "Транспорт", "MANUFACTURING": "Производство"}

B24_UI_COMPANY_HEADER = ["ID", "Название компании", "Тип компании", "Сфера деятельности", "Ответственный",
                         "Дата создания", "Рабочий телефон", "Рабочий e-mail"]
B24_UI_CONTACT_HEADER = ["ID", "Обращение", "Имя", "Отчество", "Фамилия", "Дата рождения", "Должность", "Компания",
                         "Рабочий телефон", "Мобильный телефон", "Рабочий e-mail", "Источник", "Ответственный",
                         "Дата создания"]
B24_UI_DEAL_HEADER = ["ID", "Название сделки", "Стадия сделки", "Направление", "Сумма", "Валюта", "Компания", "ID",
                      "Контакт", "ID", "Ответственный", "Дата создания", "Предполагаемая дата закрытия", "Источник"]
B24_UI_STAGES = {"NEW": "Новая", "PREPARATION": "Подготовка документов", "EXECUTING": "В работе",
                 "WON": "Сделка успешна", "LOSE": "Сделка провалена", "APOLOGY": "Анализ причины провала"}
# The phones the interface shows for each contact (two in one cell for Морозов).
B24_UI_PHONES = {"101": ("+7 812 600-10-20", "+7 921 100-20-30, +7 921 100-20-31"),
                 "103": ("", "8 (917) 222-33-44"), "105": ("", "+7 960 555-66-77")}


def _b24_company_name(company_id: str) -> str:
    return {company["ID"]: company["TITLE"] for company in B24_COMPANIES}.get(company_id, "")


def b24_ui_company_rows() -> list[dict]:
    """The companies of ``B24_COMPANIES`` as the interface exports them."""
    return [{"ID": company["ID"], "Название компании": company["TITLE"], "Тип компании": "Клиент",
             "Сфера деятельности": B24_UI_INDUSTRIES[company["INDUSTRY"]],
             "Ответственный": B24_UI_OWNERS[company["ASSIGNED_BY_ID"]], "Дата создания": "10.01.2024 09:00:00"}
            for company in B24_COMPANIES]


def b24_ui_contact_rows() -> list[dict]:
    """The contacts of ``B24_CONTACTS`` as the interface exports them (no company: an empty cell)."""
    return [{"ID": contact["ID"], "Имя": contact["NAME"], "Отчество": contact.get("SECOND_NAME", ""),
             "Фамилия": contact["LAST_NAME"], "Должность": contact.get("POST", ""),
             "Компания": _b24_company_name(contact["COMPANY_ID"]), "Рабочий телефон": B24_UI_PHONES[contact["ID"]][0],
             "Мобильный телефон": B24_UI_PHONES[contact["ID"]][1], "Источник": "Звонок",
             "Ответственный": B24_UI_OWNERS[contact["ASSIGNED_BY_ID"]], "Дата создания": "10.01.2024 09:30:00"}
            for contact in B24_CONTACTS]


def b24_ui_contact_name(contact_id: str) -> str:
    """A contact as the deal list shows it: "Имя Фамилия"."""
    found = [contact for contact in B24_CONTACTS if contact["ID"] == contact_id]
    return f"{found[0]['NAME']} {found[0]['LAST_NAME']}" if found else ""


def b24_ui_deal_rows() -> list[list[str]]:
    """The deals of ``B24_DEALS`` as the interface exports them (a list per row: the header repeats a name)."""
    return [[deal["ID"], deal["TITLE"], B24_UI_STAGES[deal["STAGE_ID"]], "Общее", deal["OPPORTUNITY"].replace(".", ","),
             "Российский рубль", _b24_company_name(deal["COMPANY_ID"]),
             "" if deal["COMPANY_ID"] == "0" else deal["COMPANY_ID"], b24_ui_contact_name(deal["CONTACT_ID"]),
             "" if deal["CONTACT_ID"] == "0" else deal["CONTACT_ID"], B24_UI_OWNERS[deal["ASSIGNED_BY_ID"]],
             "15.02.2024 10:00:00", "30.06.2024", "Звонок"] for deal in B24_DEALS]


def write_rows(path: Path, header: list[str], rows: list[list[str]], *, encoding: str, delimiter: str,
               newline: str = "\r\n") -> None:
    """Like ``write_csv`` for rows given as lists (a header that repeats a name)."""
    def cell(value) -> str:
        return '"' + str(value).replace('"', '""') + '"'

    lines = [delimiter.join(cell(value) for value in row) for row in [header, *rows]]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
