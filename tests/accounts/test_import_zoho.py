"""Import the real Zoho export into the demo database, in dependency order, and check it against the CSV.

Every expected figure is computed here from the files with the ``csv`` module and
the rules of the import written out plainly (which references can resolve), never
taken from the importer's own output. SQLite gets the whole export; PostgreSQL the
first rows of each file (written to tmp_path), which the same rules describe.
"""

from __future__ import annotations

import csv
import itertools
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from accounts.imports import IMPORT_ORDER, import_csv
from accounts.models import Account, Contact, Deal, Interaction, Lead, LeadStatus, Pipeline, PipelineStage, StageKind
from crmpm import demo
from crmpm.audit.models import AuditEntry
from crmpm.users import services as users
from crmpm.users.models import User

FILES = {"users": "Users.csv", "accounts": "Accounts.csv", "contacts": "Contacts.csv", "leads": "Leads.csv",
         "deals": "Potentials.csv", "interactions": "Calls.csv"}
SLICE = 400  # rows per file on PostgreSQL


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows, previous = [], reader.line_num
        for values in reader:
            rows.append((previous + 1, dict(zip(header, values, strict=True))))
            previous = reader.line_num
    return header, rows


def _slice(source: Path, target: Path, count: int) -> None:
    with source.open(encoding="utf-8", newline="") as handle, target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for values in itertools.islice(csv.reader(handle), count + 1):
            writer.writerow(values)


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def _expected(files: dict[str, Path]) -> dict[str, set[int]]:
    """The lines of each file that can be imported, by the documented rules."""
    rows = {kind: _read(path)[1] for kind, path in files.items()}
    ok: dict[str, set[int]] = {}
    user_names = {row["Last Name"] for _, row in rows["users"]}
    ok["users"] = {line for line, _ in rows["users"]}
    accounts = {row["ACCOUNTID"] for _, row in rows["accounts"] if row["Account Name"].strip()
                and row["Account Owner"] in user_names}
    ok["accounts"] = {line for line, row in rows["accounts"] if row["ACCOUNTID"] in accounts}
    contact_account = {row["CONTACTID"]: row["Account Id"] for _, row in rows["contacts"]
                       if row["Account Id"] in accounts and row["Contact Owner"] in user_names}
    ok["contacts"] = {line for line, row in rows["contacts"] if row["CONTACTID"] in contact_account}
    leads = {row["LEADID"] for _, row in rows["leads"] if row["Lead Owner"] in user_names}
    ok["leads"] = {line for line, row in rows["leads"] if row["LEADID"] in leads}
    # A potential's account is always found through its lead (contact, company name or a new account).
    ok["deals"] = {line for line, row in rows["deals"] if row["LEADID"] in leads
                   and row["Potential Owner"] in user_names}

    def call_ok(row: dict) -> bool:
        if row["POTENTIALID"] not in ("", "0"):
            return False  # Potentials.csv has no POTENTIALID: such a link never resolves
        contact, account, lead = row["CONTACTID"], row["ACCOUNTID"], row["LEADID"]
        if (contact and contact not in contact_account) or (account and account not in accounts) \
                or (lead and lead not in leads):
            return False
        if not (contact or account or lead):
            return False
        if contact and account and contact_account[contact] != account:
            return False  # the contact works at another account
        return row["Call Owner"] in user_names

    ok["interactions"] = {line for line, row in rows["interactions"] if call_ok(row)}
    return ok


def _counts(session) -> dict[str, int]:
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (User, Account, Contact, Lead, Deal, Interaction, AuditEntry, PipelineStage)}


def test_zoho_export_imports_in_dependency_order(session, zoho_dir, zoho_mapping_dir, tmp_path, backend):
    if backend == "sqlite":
        files = {kind: zoho_dir / name for kind, name in FILES.items()}
    else:
        files = {}
        for kind, name in FILES.items():
            _slice(zoho_dir / name, tmp_path / name, SLICE)
            files[kind] = tmp_path / name
    expected = _expected(files)
    demo.load(session)
    session.commit()
    admin = users.get_by_email(session, email="admin@crmpm.local")
    before = _counts(session)

    reports = {}
    for kind in IMPORT_ORDER:
        report = import_csv(session, actor=admin, kind=kind, path=files[kind],
                            mapping=zoho_mapping_dir / f"{kind}.json", partial=True)
        session.commit()
        _header, rows = _read(files[kind])
        lines = {line for line, _ in rows}
        # Every row is imported or listed, never both, never neither.
        assert set(report.error_lines) == lines - expected[kind], kind
        assert report.created == len(expected[kind]), kind
        assert report.rows == len(rows) and report.blank == 0
        assert all(error.reason for error in report.errors)
        reports[kind] = report

    after = _counts(session)
    assert after["users"] - before["users"] == len(expected["users"])
    assert after["contacts"] - before["contacts"] == len(expected["contacts"])
    assert after["leads"] - before["leads"] == len(expected["leads"])
    assert after["interactions"] - before["interactions"] == len(expected["interactions"])
    # Accounts: the file's, plus one new account per company name no lead found an account for.
    assert after["accounts"] - before["accounts"] >= len(expected["accounts"])

    zoho = session.scalar(select(Pipeline).where(Pipeline.name == "zoho"))
    deals_in = select(func.count()).select_from(Deal).where(Deal.pipeline_id == zoho.id)
    assert session.scalar(deals_in) == len(expected["deals"])
    _header, potentials = _read(files["deals"])
    won = [row for line, row in potentials if line in expected["deals"] and row["Stage"] == "Closed Won"]
    won_sum = session.scalar(select(func.coalesce(func.sum(Deal.amount), 0)).join(
        PipelineStage, PipelineStage.id == Deal.stage_id).where(Deal.pipeline_id == zoho.id,
                                                                 PipelineStage.kind == StageKind.won))
    assert Decimal(won_sum) == sum((_money(row["Amount"]) for row in won), Decimal(0))
    assert session.scalar(deals_in.join(PipelineStage, PipelineStage.id == Deal.stage_id).where(
        PipelineStage.kind == StageKind.won)) == len(won)
    # Every imported potential qualified the lead it came from.
    assert session.scalar(select(func.count()).select_from(Lead).where(
        Lead.status == LeadStatus.qualified, Lead.deal_id.is_not(None))) == len(expected["deals"])

    # The same files again: nothing changes, every good row is counted unchanged.
    for kind in IMPORT_ORDER:
        again = import_csv(session, actor=admin, kind=kind, path=files[kind],
                           mapping=zoho_mapping_dir / f"{kind}.json", partial=True)
        session.commit()
        assert (again.created, again.updated) == (0, 0), (kind, again.summary())
        assert again.unchanged == len(expected[kind]), kind
        assert again.error_lines == reports[kind].error_lines
    assert _counts(session) == after
