"""Bank statements in 1CClientBankExchange, the text format between 1C and bank clients (pure, no database).

The format is 1C's "Стандарт обмена с системами «Клиент банка»", version 1.03, published at
https://v8.1c.ru/tekhnologii/obmen-dannymi-i-integratsiya/standarty-i-formaty/standart-obmena-s-sistemami-klient-banka/formaty-obmena/
(the field table: http://v8.1c.ru/edi/edi_stnd/100/101.htm). What this reader relies on from it:

* the first line is ``1CClientBankExchange``; then ``Key=Value`` lines: the header (``ВерсияФормата``,
  ``Кодировка`` — ``Windows`` for cp1251, ``DOS`` for cp866 —, ``Отправитель``, ``Получатель``,
  ``ДатаСоздания``, ``ДатаНачала``, ``ДатаКонца``, one or more ``РасчСчет``, ``Документ``);
* ``СекцияРасчСчет`` … ``КонецРасчСчет``: the balances of one of the organisation's accounts for the period;
* ``СекцияДокумент=<kind>`` (``Платежное поручение``, ``Банковский ордер`` …) … ``КонецДокумента``: one
  document with ``Номер``, ``Дата`` (dd.mm.yyyy), ``Сумма`` (roubles, a dot before the kopecks),
  ``ПлательщикСчет``, ``Плательщик`` or ``Плательщик1`` (the name), ``ПлательщикИНН``, ``ПолучательСчет``,
  ``ПолучательИНН``, ``ДатаСписано`` (left the payer's account), ``ДатаПоступило`` (reached the payee's),
  ``НазначениеПлатежа`` (older files: ``НазначениеПлатежа1`` … ``6``);
* ``КонецФайла`` ends the file.

Besides ``Windows`` and ``DOS`` the reader takes UTF-8 when the file declares it (``Кодировка=UTF-8``), as some
bank clients write. Anything it cannot read — a missing header, a line that is not ``Key=Value`` inside a
section, a section left open, a bad date or amount, a file cut before ``КонецФайла`` — raises
:class:`StatementError` naming the line: a statement is read whole or not at all.

Which documents are payments *to us* is :func:`direction`'s call: a document whose payee account is one of ours
is ``incoming``, one whose payer account is ours ``outgoing``, anything else ``other``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

__all__ = ["MAGIC", "StatementError", "StatementDocument", "Statement", "read_statement", "direction",
           "dedup_key", "INCOMING", "OUTGOING", "OTHER"]

MAGIC = "1CClientBankExchange"
INCOMING, OUTGOING, OTHER = "incoming", "outgoing", "other"
ENCODINGS = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
_ENCODING_KEY = "Кодировка="
_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
# Fields read into StatementDocument; the others of a document are kept in ``fields`` as written.
_PURPOSE_PARTS = tuple(f"НазначениеПлатежа{n}" for n in range(1, 7))


class StatementError(ValueError):
    """A file that is not a readable 1CClientBankExchange statement; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass
class StatementDocument:
    """One ``СекцияДокумент`` of the file, its values as the format gives them."""

    line: int  # where its section opens
    kind: str
    number: str
    date: date
    amount: Decimal
    payer_account: str = ""
    payer_name: str = ""
    payer_inn: str = ""
    payee_account: str = ""
    payee_inn: str = ""
    written_off_on: date | None = None  # ДатаСписано
    received_on: date | None = None  # ДатаПоступило
    purpose: str = ""
    fields: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def paid_on(self) -> date:
        """The day the money reached the payee (``ДатаПоступило``), else the document's date."""
        return self.received_on or self.date


@dataclass
class Statement:
    """A read file: its header, the organisation's accounts it covers and its documents in file order."""

    encoding: str
    version: str = ""
    accounts: list[str] = field(default_factory=list)  # РасчСчет of the header and of СекцияРасчСчет
    date_from: date | None = None
    date_to: date | None = None
    documents: list[StatementDocument] = field(default_factory=list)


def _encoding_of(data: bytes) -> str:
    """The Python codec of the file, from its ``Кодировка=`` line (found in whichever encoding it is written)."""
    for codec in ("cp1251", "utf-8", "cp866"):
        key = _ENCODING_KEY.encode(codec)
        at = data.find(key)
        if at < 0:
            continue
        end = data.find(b"\n", at)
        value = data[at + len(key): end if end >= 0 else len(data)].decode("ascii", "replace").strip().lower()
        if value not in ENCODINGS:
            line = data.count(b"\n", 0, at) + 1
            raise StatementError(line, f"unknown encoding {value!r}: expected Windows, DOS or UTF-8")
        declared = ENCODINGS[value]
        # The key itself was found written in ``codec``: a file declaring Windows but written in UTF-8
        # (some bank clients do) is read as what it is.
        return codec if codec == "utf-8" else declared
    return "cp1251"  # the format's default when a file leaves Кодировка out


def _date(value: str, line: int, key: str) -> date:
    found = _DATE.match(value)
    if not found:
        raise StatementError(line, f"{key}: {value!r} is not a date dd.mm.yyyy")
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise StatementError(line, f"{key}: {value!r} is not a date dd.mm.yyyy") from None


def _amount(value: str, line: int) -> Decimal:
    text = value.strip().replace(" ", "")
    if not _AMOUNT.match(text):
        raise StatementError(line, f"Сумма: {value!r} is not an amount (roubles, a dot, kopecks)")
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise StatementError(line, f"Сумма: {value!r} is not an amount") from None
    if amount <= 0:
        raise StatementError(line, f"Сумма: {value!r} is not a positive amount")
    return amount


def _document(kind: str, opened: int, values: dict[str, tuple[str, int]]) -> StatementDocument:
    for key in ("Номер", "Дата", "Сумма"):
        if not values.get(key, ("", 0))[0].strip():
            raise StatementError(opened, f"the document opened here has no {key}")

    def text(key: str) -> str:
        return values.get(key, ("", 0))[0].strip()

    def day(key: str) -> date | None:
        value, line = values.get(key, ("", 0))
        return _date(value.strip(), line, key) if value.strip() else None

    purpose = text("НазначениеПлатежа") or " ".join(text(key) for key in _PURPOSE_PARTS if text(key))
    return StatementDocument(
        line=opened, kind=kind, number=text("Номер"), date=day("Дата"), amount=_amount(*values["Сумма"]),
        payer_account=text("ПлательщикСчет") or text("ПлательщикРасчСчет"),
        payer_name=text("Плательщик1") or text("Плательщик"), payer_inn=text("ПлательщикИНН"),
        payee_account=text("ПолучательСчет") or text("ПолучательРасчСчет"), payee_inn=text("ПолучательИНН"),
        written_off_on=day("ДатаСписано"), received_on=day("ДатаПоступило"), purpose=purpose,
        fields={key: value for key, (value, _line) in values.items()})


def read_statement(data: bytes) -> Statement:
    """Read a 1CClientBankExchange file whole; :class:`StatementError` naming the line when it cannot be read."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise StatementError(0, "the file is empty")
    codec = _encoding_of(data)
    statement = Statement(encoding=codec)
    section: str | None = None  # None (header), "account", "document"
    kind, opened, values = "", 0, {}
    ended = False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode(codec).rstrip("\r").strip()
        except UnicodeDecodeError:
            raise StatementError(number, f"bytes that are not {codec} text") from None
        if number == 1:
            if line != MAGIC:
                raise StatementError(1, f"not a 1CClientBankExchange file (the first line must be {MAGIC})")
            continue
        if not line or ended:
            continue  # blank lines; whatever follows КонецФайла is not part of the exchange
        key, has_value, value = line.partition("=")
        key = key.strip()
        if key == "КонецФайла":
            if section is not None:
                raise StatementError(number, f"КонецФайла inside the section opened on line {opened}")
            ended = True
        elif key == "СекцияДокумент":
            if section is not None:
                raise StatementError(number, f"a new document before the section opened on line {opened} ended")
            section, kind, opened, values = "document", value.strip(), number, {}
        elif key == "КонецДокумента":
            if section != "document":
                raise StatementError(number, "КонецДокумента without a СекцияДокумент")
            statement.documents.append(_document(kind, opened, values))
            section = None
        elif key == "СекцияРасчСчет":
            if section is not None:
                raise StatementError(number, f"СекцияРасчСчет inside the section opened on line {opened}")
            section, opened, values = "account", number, {}
        elif key == "КонецРасчСчет":
            if section != "account":
                raise StatementError(number, "КонецРасчСчет without a СекцияРасчСчет")
            account = values.get("РасчСчет", ("", 0))[0].strip()
            if account and account not in statement.accounts:
                statement.accounts.append(account)
            section = None
        elif not has_value or not key:
            raise StatementError(number, f"expected Key=Value, found {line[:60]!r}")
        elif section is None:
            _header(statement, key, value.strip(), number)
        else:
            if key in values:
                raise StatementError(number, f"{key} given twice (first on line {values[key][1]})")
            values[key] = (value, number)
    if section is not None:
        raise StatementError(opened, "the section opened here never ends (the file is cut short?)")
    if not ended:
        raise StatementError(number, "the file ends without КонецФайла (cut short?)")
    return statement


def _header(statement: Statement, key: str, value: str, line: int) -> None:
    if key == "ВерсияФормата":
        statement.version = value
    elif key == "РасчСчет" and value and value not in statement.accounts:
        statement.accounts.append(value)
    elif key == "ДатаНачала" and value:
        statement.date_from = _date(value, line, key)
    elif key == "ДатаКонца" and value:
        statement.date_to = _date(value, line, key)


def direction(document: StatementDocument, ours: set[str] | frozenset[str]) -> str:
    """``incoming`` when the payee's account is one of ``ours``, ``outgoing`` when the payer's is, else ``other``."""
    if document.payee_account and document.payee_account in ours:
        return INCOMING
    if document.payer_account and document.payer_account in ours:
        return OUTGOING
    return OTHER


def dedup_key(document: StatementDocument) -> str:
    """A payment's identity across imports: its number, date, amount, payer's account and purpose, hashed."""
    parts = (document.number, document.date.isoformat(), f"{document.amount:.2f}", document.payer_account,
             " ".join(document.purpose.split()))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
