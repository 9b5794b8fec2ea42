"""Actual costs from accounting: the cost file read, checked and booked to projects as expenses.

The file (docs/accounting-exchange.md): CSV in UTF-8 (a BOM is fine) or Windows-1251, separated by ``;`` or
``,`` (told from the header line), a header row naming the columns in English or Russian:

============  ===============================  ========
column        also named                       required
============  ===============================  ========
project       project_code, Проект, Код проекта  yes
cost_account  account, Статья затрат, Счет затрат  yes
date          Дата                              yes
amount        Сумма                             yes
description   Описание, Содержание              no
document      document_id, Документ             no
============  ===============================  ========

The XML variant: ``<costs><cost project=".." cost_account=".." date=".." amount=".." document="..">description
</cost>…</costs>`` (no DTD or entities are read).

Dates ``2026-11-30`` or ``30.11.2026`` (a time after it, as 1C writes, is ignored); amounts with ``.`` or ``,``
for decimals, spaces between thousands, at most two decimals, negative for a reversal (сторно).

* A file with a bad row (a date or amount that cannot be read, a required cell empty, a malformed code) is
  refused whole, every bad line named; nothing is written.
* Rows whose project does not exist, or that the caller may not book to (budget rights: the finance role,
  administrators), are reported as "no such project" (never naming the project) and not booked; the other
  rows are booked.
* Cost accounts the file names that the chart lacks are created (accounting's chart of accounts is the
  authority on them) and listed in the report (docs/decisions/0015).
* Each row's ``row_key`` hashes its document, project, cost account, date, amount, description and which
  occurrence of an identical row it is: importing the same file again books nothing twice (duplicates).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, access_to
from wbs.expenses import services as expenses
from wbs.expenses.models import CODE_LENGTH

from accounts.accounting.models import AccountingRun

MAX_ROWS = 200_000
MAX_REPORTED = 1000  # rows listed in a run's report (the counts are exact)
MAX_DESCRIPTION = 500
MAX_DOCUMENT = 100
COLUMNS = {
    "project": ("project", "project_code", "проект", "код проекта"),
    "cost_account": ("cost_account", "account", "cost_account_code", "статья затрат", "счет затрат",
                     "счёт затрат", "код статьи"),
    "date": ("date", "дата"),
    "amount": ("amount", "сумма"),
    "description": ("description", "описание", "содержание"),
    "document": ("document", "document_id", "документ"),
}
REQUIRED = ("project", "cost_account", "date", "amount")
NO_SUCH_PROJECT = "no such project"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$|^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")


@dataclass
class CostRow:
    line: int
    project: str
    cost_account: str
    booked_on: date
    amount: Decimal
    description: str
    document: str
    row_key: str = ""


@dataclass
class CostFile:
    encoding: str
    separator: str
    rows: list[CostRow] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (with or without a BOM), else Windows-1251."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="strict"), "cp1251"


def read_cost_file(data: bytes) -> CostFile:
    """Every row of a cost file (CSV, or the XML variant), checked; Invalid naming each bad line otherwise."""
    if not data.strip():
        raise Invalid("file: the file is empty", errors={"file": ["empty"]})
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _checked(_xml_rows(data), CostFile(encoding="xml", separator=""))
    text, encoding, separator, positions = _header(data)
    reader = csv.reader(io.StringIO(text.lstrip()), delimiter=separator)
    next(reader)
    rows = ((reader.line_num, cells) for cells in reader)
    return _checked(((line, cells, positions) for line, cells in rows),
                    CostFile(encoding=encoding, separator=separator))


def check_file_start(data: bytes) -> None:
    """The checks made before a job is asked to read the whole file: not empty, text, the header's columns
    (an XML file: its first bytes only; the job reads the rest)."""
    if not data.strip():
        raise Invalid("file: the file is empty", errors={"file": ["empty"]})
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        _header(data)


def _header(data: bytes) -> tuple[str, str, str, dict[str, int]]:
    """The file's text, encoding, separator and the position of each known column; Invalid when the text or
    a required column is missing."""
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError:
        raise Invalid("file: the file is neither UTF-8 nor Windows-1251 text",
                      errors={"file": ["not UTF-8 or Windows-1251"]}) from None
    if "\x00" in text:
        raise Invalid("file: the file is not a CSV text file", errors={"file": ["binary"]})
    header_line = text.lstrip().splitlines()[0]
    separator = ";" if header_line.count(";") >= header_line.count(",") else ","
    header = [cell.strip().lower() for cell in next(csv.reader([header_line], delimiter=separator))]
    positions: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for index, cell in enumerate(header):
            if cell in aliases:
                positions[name] = index
                break
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise Invalid("file: the header lacks the columns {columns}", columns=", ".join(missing),
                      errors={"file": [f"missing columns: {', '.join(missing)}"]})
    return text, encoding, separator, positions


def _xml_rows(data: bytes):
    """The XML variant's rows as (line, cells, positions): ``<costs><cost project=".." cost_account=".."
    date=".." amount=".." document="..">description</cost>…</costs>`` (docs/accounting-exchange.md)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise Invalid("file: the XML cannot be read ({problem})", problem=str(exc)[:200],
                      errors={"file": ["not well-formed XML"]}) from None
    if root.tag != "costs":
        raise Invalid("file: the XML's root element must be costs", errors={"file": ["root element is not costs"]})
    positions = {name: index for index, name in enumerate(("project", "cost_account", "date", "amount",
                                                           "description", "document"))}
    for element in root:
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        if element.tag != "cost":
            raise Invalid("file: line {line}: unknown element {element}", line=element.sourceline,
                          element=element.tag[:60], errors={"file": [f"line {element.sourceline}: not a cost"]})
        cells = [element.get("project", ""), element.get("cost_account", ""), element.get("date", ""),
                 element.get("amount", ""), (element.text or "").strip(), element.get("document", "")]
        yield element.sourceline, cells, positions


def _checked(rows, result: CostFile) -> CostFile:
    bad: list[dict] = []
    for line, cells, positions in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(result.rows) + len(bad) >= MAX_ROWS:
            raise Invalid("file: more than {limit} rows; split the file", limit=MAX_ROWS,
                          errors={"file": [f"more than {MAX_ROWS} rows"]})
        row, problems = _row(line, cells, positions)
        if problems:
            bad.extend(problems)
        else:
            result.rows.append(row)
    if bad:
        shown = bad[:MAX_REPORTED]
        raise Invalid("file: {count} bad rows; nothing was imported (first: line {line}, {column}: {reason})",
                      count=len({problem["line"] for problem in bad}), line=bad[0]["line"],
                      column=bad[0]["column"], reason=bad[0]["reason"], errors={"rows": shown})
    _key_rows(result.rows)
    return result


def _row(line: int, cells: list[str], positions: dict[str, int]) -> tuple[CostRow | None, list[dict]]:
    def cell(name: str) -> str:
        index = positions.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems = []

    def problem(column: str, reason: str) -> None:
        problems.append({"line": line, "column": column, "reason": reason})

    for name in REQUIRED:
        if not cell(name):
            problem(name, "empty")
    project, account = cell("project"), cell("cost_account")
    if len(project) > CODE_LENGTH:
        problem("project", f"more than {CODE_LENGTH} characters")
    if account:
        try:
            expenses.check_code(account, field="cost_account")
        except Invalid as exc:
            problem("cost_account", exc.errors["cost_account"][0])
    booked_on = parse_date(cell("date")) if cell("date") else None
    if cell("date") and booked_on is None:
        problem("date", "not a date (YYYY-MM-DD or DD.MM.YYYY)")
    amount = parse_amount(cell("amount")) if cell("amount") else None
    if cell("amount") and amount is None:
        problem("amount", "not an amount (digits, one decimal separator, at most 2 decimals)")
    description, document = cell("description"), cell("document")
    if len(description) > MAX_DESCRIPTION:
        problem("description", f"more than {MAX_DESCRIPTION} characters")
    if len(document) > MAX_DOCUMENT:
        problem("document", f"more than {MAX_DOCUMENT} characters")
    if problems:
        return None, problems
    return CostRow(line=line, project=project, cost_account=account, booked_on=booked_on, amount=amount,
                   description=description, document=document), []


def parse_date(text: str) -> date | None:
    """``2026-11-30`` or ``30.11.2026`` (``30.11.2026 0:00:00``); None when it is not a real date."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        if match.group(1):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return date(int(match.group(6)), int(match.group(5)), int(match.group(4)))
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal | None:
    """``1 234,50``, ``1234.5``, ``-300``; None for anything else (or more than two decimals)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"-?\d{1,16}(\.\d{1,2})?", cleaned):
        return None
    try:
        return Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _key_rows(rows: list[CostRow]) -> None:
    """Give each row its identity: its fields and which occurrence of an identical row it is."""
    seen: Counter = Counter()
    for row in rows:
        fields = (row.document, row.project, row.cost_account, row.booked_on.isoformat(), f"{row.amount:.2f}",
                  row.description)
        seen[fields] += 1
        row.row_key = hashlib.sha256("\x1f".join((*fields, str(seen[fields]))).encode()).hexdigest()


def check_may_import(session: Session, *, actor: User) -> None:
    """Forbidden unless ``actor`` is an administrator or holds a finance grant somewhere."""
    if not expenses.may_keep_books(session, user=actor):
        raise Forbidden("importing costs needs the finance role or administrator rights")


def import_costs(session: Session, *, actor: User, data: bytes, file_name: str = "",
                 job_id: int | None = None) -> AccountingRun:
    """Read a cost file and book its rows as the actor (see the module); the run with its counts and report."""
    check_may_import(session, actor=actor)
    cost_file = read_cost_file(data)
    run = AccountingRun(direction="in", what="costs", file_name=(file_name or "costs.csv")[:255],
                        sha256=hashlib.sha256(data).hexdigest(), status="running", actor_id=actor.id,
                        job_id=job_id, rows=len(cost_file.rows))
    session.add(run)
    session.flush()
    projects = _projects_by_code(session, {row.project for row in cost_file.rows})
    may_book: dict[int, bool] = {}

    def bookable(project: Project | None) -> bool:
        if project is None:
            return False
        if project.id not in may_book:
            may_book[project.id] = access_to(session, user=actor, obj=project).can(Permission.budget)
        return may_book[project.id]

    booked_before = expenses.existing_row_keys(session, [row.row_key for row in cost_file.rows])
    unmatched: list[dict] = []
    duplicates = 0
    to_book: list[CostRow] = []
    for row in cost_file.rows:
        project = projects.get(row.project)
        if not bookable(project):
            unmatched.append({"line": row.line, "project": row.project, "reason": NO_SUCH_PROJECT})
        elif row.row_key in booked_before:
            duplicates += 1
        else:
            to_book.append(row)
    accounts = expenses.cost_accounts_by_code(session, {row.cost_account for row in to_book})
    created = []
    for code in sorted({row.cost_account for row in to_book} - accounts.keys()):
        accounts[code] = expenses.create_cost_account(session, actor=actor, code=code, checked=True)
        created.append(code)
    applied = expenses.book_expenses(session, actor=actor, run_id=run.id, expenses=[
        expenses.NewExpense(project_id=projects[row.project].id, cost_account_id=accounts[row.cost_account].id,
                            booked_on=row.booked_on, amount=row.amount, description=row.description,
                            row_key=row.row_key) for row in to_book])
    run.applied, run.unmatched, run.duplicates = applied, len(unmatched), duplicates
    run.report = {"encoding": cost_file.encoding, "separator": cost_file.separator,
                  "unmatched_rows": unmatched[:MAX_REPORTED], "created_cost_accounts": created,
                  "total": f"{sum((row.amount for row in to_book), Decimal('0.00')):.2f}"}
    run.status, run.finished_at = "succeeded", utcnow()
    session.flush()
    return run


def _projects_by_code(session: Session, codes: set[str]) -> dict[str, Project]:
    codes_sorted = sorted(codes)
    found: dict[str, Project] = {}
    for start in range(0, len(codes_sorted), 500):
        chunk = codes_sorted[start:start + 500]
        found.update((project.code, project) for project in
                     session.scalars(select(Project).where(Project.code.in_(chunk))))
    return found


__all__ = ["CostFile", "CostRow", "NO_SUCH_PROJECT", "decode", "import_costs", "parse_amount", "parse_date",
           "read_cost_file"]
