"""Transform every file of the real Zoho CRM export and check figures computed independently.

The expected figures come from the standard ``csv`` module and plain string
handling in this file, never from the code under test.
"""

import csv
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from accounts.csvio.parsing import Phone
from accounts.csvio.transform import ImportBatch, import_file

FILES = {
    "users": "Users.csv",
    "accounts": "Accounts.csv",
    "contacts": "Contacts.csv",
    "leads": "Leads.csv",
    "deals": "Potentials.csv",
    "interactions": "Calls.csv",
}
MOSCOW = ZoneInfo("Europe/Moscow")


def _rows_with_lines(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Each data row with the file line it starts on, by the standard library alone."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        out, previous = [], reader.line_num
        for values in reader:
            out.append((previous + 1, dict(zip(header, values, strict=True))))
            previous = reader.line_num
    return out


def _batch(kind: str, zoho_dir: Path, zoho_mapping_dir: Path) -> ImportBatch:
    return import_file(
        kind=kind, path=zoho_dir / FILES[kind], mapping=zoho_mapping_dir / f"{kind}.json", tz="Europe/Moscow"
    )


@pytest.mark.parametrize("kind", list(FILES))
def test_every_row_is_a_record_or_an_error(kind: str, zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / FILES[kind])
    batch = _batch(kind, zoho_dir, zoho_mapping_dir)
    record_lines = [r.line for r in batch.records]
    assert len(record_lines) + len(batch.error_lines) + len(batch.blank_lines) == len(rows)
    assert sorted(record_lines + batch.error_lines + batch.blank_lines) == [line for line, _ in rows]
    assert len(set(record_lines)) == len(record_lines)


def test_users(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Users.csv")
    batch = _batch("users", zoho_dir, zoho_mapping_dir)
    assert batch.errors == []
    assert [(r.external_id, r.fields["name"], r.fields["email"]) for r in batch.records] == [
        (row["USER_ID"], row["Last Name"], row["Email"].lower()) for _, row in rows
    ]


def test_accounts_without_a_name_are_the_only_errors(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Accounts.csv")
    batch = _batch("accounts", zoho_dir, zoho_mapping_dir)
    nameless = [line for line, row in rows if not row["Account Name"].strip()]
    assert nameless == [1093, 1948, 2100]
    assert [(e.line, e.column, e.field, e.reason) for e in batch.errors] == [
        (line, "Account Name", "name", "name is required") for line in nameless
    ]
    assert len(batch.records) == len(rows) - 3
    assert Counter(r.fields["sector"] for r in batch.records) == Counter(
        row["Industry"] for _, row in rows if row["Account Name"].strip()
    )
    by_id = {r.external_id: r for r in batch.records}
    assert by_id["3"].fields == {"name": "Angel's", "owner": "Thomas Mondrake", "sector": "Manufacturing",
                                 "region": "MSK"}  # Zoho has no branch: the mapping's default


def test_contacts(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Contacts.csv")
    batch = _batch("contacts", zoho_dir, zoho_mapping_dir)
    assert batch.errors == []
    assert len(batch.records) == len(rows)
    for record, (_, row) in zip(batch.records, rows, strict=True):
        assert record.external_id == row["CONTACTID"]
        assert record.fields["name"] == record.fields["last_name"] == row["Last Name"]
        assert record.fields["account"] == row["Account Id"]
        assert record.fields["email"] == row["Email"].lower()
        assert record.fields["mobile"] == Phone(e164="+1" + row["Mobile"].replace("-", ""), raw=row["Mobile"])
        assert record.fields["created_at"].tzinfo is not None
    assert batch.records[0].fields["created_at"] == datetime(2021, 4, 16, 0, 2, tzinfo=MOSCOW)


def test_leads(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Leads.csv")
    batch = _batch("leads", zoho_dir, zoho_mapping_dir)
    assert batch.errors == []
    assert len(batch.records) == len(rows) == 3900
    statuses = Counter(r.fields["status"] for r in batch.records)
    source = Counter(row["Lead Status"] for _, row in rows)
    # Zoho's statuses become crmpm's: someone works on it (assigned), or it is disqualified.
    assert statuses["new"] == source["Not Contacted"]
    assert statuses["assigned"] == sum(source[name] for name in (
        "Attempted to Contact", "Contacted", "Contact in Future", "Pre Qualified"))
    assert statuses["disqualified"] == source["Lost Lead"] + source["Junk Lead"]
    assert sum(statuses.values()) == sum(source.values())
    assert {r.external_id for r in batch.records} == {row["LEADID"] for _, row in rows}


def test_deals_amounts_match_the_csv(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Potentials.csv")
    batch = _batch("deals", zoho_dir, zoho_mapping_dir)
    assert batch.errors == []
    assert len(batch.records) == len(rows) == 3632

    def plain(text: str) -> Decimal:
        return Decimal(text.replace("$", "").replace(",", ""))

    won_expected = sum((plain(row["Amount"]) for _, row in rows if row["Stage"] == "Closed Won"), Decimal(0))
    won_actual = sum((r.fields["amount"] for r in batch.records if r.fields["stage"] == "won"), Decimal(0))
    assert won_actual == won_expected
    assert sum(1 for r in batch.records if r.fields["stage"] == "won") == sum(
        1 for _, row in rows if row["Stage"] == "Closed Won"
    )
    total_expected = sum((plain(row["Amount"]) for _, row in rows), Decimal(0))
    assert sum((r.fields["amount"] for r in batch.records), Decimal(0)) == total_expected
    assert all(type(r.fields["amount"]) is Decimal for r in batch.records)
    assert {r.fields["currency"] for r in batch.records} == {"USD"}  # from "$" in every amount
    first = batch.records[0]
    assert first.fields["title"] == "Lewis, James"
    assert first.fields["engaged_at"] == datetime(2021, 4, 15, 0, 2, tzinfo=MOSCOW)
    assert first.fields["expected_close"] == date(2021, 4, 16)


def test_calls_become_interactions(zoho_dir: Path, zoho_mapping_dir: Path) -> None:
    rows = _rows_with_lines(zoho_dir / "Calls.csv")
    batch = _batch("interactions", zoho_dir, zoho_mapping_dir)
    assert batch.errors == []
    assert len(batch.records) == len(rows) == 4100
    assert {r.fields["kind"] for r in batch.records} == {"call"}
    assert Counter(r.fields["direction"] for r in batch.records) == Counter(row["Call Type"].lower() for _, row in rows)
    without_deal = sum(1 for _, row in rows if row["POTENTIALID"] in ("", "0"))
    assert sum(1 for r in batch.records if r.fields["deal"] is None) == without_deal
    assert sum(r.fields["duration_minutes"] for r in batch.records) == sum(
        int(row["Call Duration (in minutes)"]) for _, row in rows
    )
    assert batch.records[0].fields["occurred_at"] == datetime(2021, 4, 15, 23, 3, tzinfo=MOSCOW)
