"""Bank statement files for the tests, written by hand the way 1C's published description of 1CClientBankExchange
1.03 lays them out (http://v8.1c.ru/edi/edi_stnd/100/101.htm): header, СекцияРасчСчет, documents, КонецФайла.

Deliberately not produced by any writer of ours: each document is the text a bank client would put in the file.
"""

from __future__ import annotations

OUR_ACCOUNT = "40702810900000000001"
OUR_INN = "7701234567"


def header(*, account: str = OUR_ACCOUNT, encoding: str = "Windows", start: str = "01.12.2026",
           end: str = "05.12.2026") -> str:
    return (
        "1CClientBankExchange\r\n"
        "ВерсияФормата=1.03\r\n"
        f"Кодировка={encoding}\r\n"
        "Отправитель=Бухгалтерия предприятия, редакция 3.0\r\n"
        "Получатель=\r\n"
        "ДатаСоздания=05.12.2026\r\n"
        "ВремяСоздания=10:15:00\r\n"
        f"ДатаНачала={start}\r\n"
        f"ДатаКонца={end}\r\n"
        f"РасчСчет={account}\r\n"
        "Документ=Платежное поручение\r\n"
        "СекцияРасчСчет\r\n"
        f"ДатаНачала={start}\r\n"
        f"ДатаКонца={end}\r\n"
        f"РасчСчет={account}\r\n"
        "НачальныйОстаток=100000.00\r\n"
        "ВсегоПоступило=0.00\r\n"
        "ВсегоСписано=0.00\r\n"
        "КонечныйОстаток=100000.00\r\n"
        "КонецРасчСчет\r\n"
    )


def incoming(*, number: str = "512", day: str = "03.12.2026", amount: str = "12000.00",
             payer_inn: str = "7707083893", payer_account: str = "40702810500000000777",
             payer: str = 'ООО "Ладога"', purpose: str = "Оплата по счету № 17 от 01.12.2026, в т.ч. НДС",
             account: str = OUR_ACCOUNT, kind: str = "Платежное поручение", received: str | None = "04.12.2026",
             name_field: str = "Плательщик1") -> str:
    received_line = f"ДатаПоступило={received}\r\n" if received else ""
    return (
        f"СекцияДокумент={kind}\r\n"
        f"Номер={number}\r\n"
        f"Дата={day}\r\n"
        f"Сумма={amount}\r\n"
        f"ПлательщикСчет={payer_account}\r\n"
        f"ДатаСписано={day}\r\n"
        f"{name_field}={payer}\r\n"
        f"ПлательщикИНН={payer_inn}\r\n"
        "ПлательщикКПП=781201001\r\n"
        "ПлательщикБанк1=ПАО СБЕРБАНК\r\n"
        "ПлательщикБИК=044030653\r\n"
        "ПлательщикКорсчет=30101810500000000653\r\n"
        f"ПолучательСчет={account}\r\n"
        f"{received_line}"
        "Получатель1=ООО \"Наша компания\"\r\n"
        f"ПолучательИНН={OUR_INN}\r\n"
        "ПолучательБИК=044525225\r\n"
        "ВидОплаты=01\r\n"
        "Очередность=5\r\n"
        f"НазначениеПлатежа={purpose}\r\n"
        "КонецДокумента\r\n"
    )


def outgoing(*, number: str = "77", amount: str = "5000.00") -> str:
    return (
        "СекцияДокумент=Платежное поручение\r\n"
        f"Номер={number}\r\n"
        "Дата=02.12.2026\r\n"
        f"Сумма={amount}\r\n"
        f"ПлательщикСчет={OUR_ACCOUNT}\r\n"
        "ДатаСписано=02.12.2026\r\n"
        "Плательщик=ИНН 7701234567 ООО \"Наша компания\"\r\n"
        f"ПлательщикИНН={OUR_INN}\r\n"
        "ПолучательСчет=40702810000000000555\r\n"
        "Получатель1=АО \"Поставщик\"\r\n"
        "ПолучательИНН=7799999999\r\n"
        "НазначениеПлатежа=Оплата за материалы по договору 5\r\n"
        "КонецДокумента\r\n"
    )


def statement(*documents: str, encoding: str = "Windows", account: str = OUR_ACCOUNT) -> str:
    return header(encoding=encoding, account=account) + "".join(documents) + "КонецФайла\r\n"


def cp1251(text: str) -> bytes:
    return text.encode("cp1251")
