"""Benchmark the CSV import transform on a generated file of deals.

Usage (from the repository root)::

    .venv/bin/python bench/bench_csv_transform.py --rows 100000
    .venv/bin/python bench/bench_csv_transform.py --rows 100000 --style ru --stream

``--style zoho`` writes Zoho-like rows ("$22,700.00", "15 Apr, 2021 00:02:00"),
``--style ru`` cp1251 with semicolons ("1 234 567,89 руб.", "15.04.2021 10:30").
Values are varied (random dates over ten years, random amounts) so the date
cache does not make the figure look better than a real export would.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accounts.csvio.mapping import parse_mapping
from accounts.csvio.reader import open_csv
from accounts.csvio.transform import Record, RowError, iter_transform, transform

STAGES = ["Qualification", "Needs Analysis", "Prospect", "Initial Offer", "Closed Won", "Closed Lost"]
OWNERS = ["Rozario Diego", "Santa Cruz Clara", "Lazar Mathew", "Tina Thomas", "Roger Terrence"]

MAPPING = {
    "columns": {
        "ID": "external_id",
        "Potential Name": "title",
        "Account": "account",
        "Potential Owner": "owner",
        "Stage": "stage",
        "Amount": "amount",
        "Created Time": "engaged_at",
        "Closed Time": "closed_at",
        "Closing Date": "expected_close",
        "Product": "product",
    },
    "values": {"stage": {s: s.lower().replace(" ", "_") for s in STAGES}},
}


def _generate(path: Path, *, rows: int, style: str, seed: int) -> None:
    """Write a deals CSV of ``rows`` rows in the given style."""
    rng = random.Random(seed)
    start = datetime(2015, 1, 1)
    ru = style == "ru"
    delimiter = ";" if ru else ","
    with path.open("w", encoding="cp1251" if ru else "utf-8", newline="") as handle:
        header = [
            "ID",
            "Potential Name",
            "Account",
            "Potential Owner",
            "Stage",
            "Amount",
            "Created Time",
            "Closed Time",
            "Closing Date",
            "Product",
            "Notes",
        ]
        handle.write(delimiter.join(header) + "\r\n")
        for number in range(rows):
            created = start + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
            closed = created + timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
            cents = rng.randrange(0, 500_000_00)
            whole, frac = divmod(cents, 100)
            if ru:
                amount = f"{whole:,}".replace(",", "\u00a0") + f",{frac:02d} руб."
                created_text = created.strftime("%d.%m.%Y %H:%M")
                closed_text = closed.strftime("%d.%m.%Y %H:%M") if rng.random() < 0.5 else ""
                close_day = closed.strftime("%d.%m.%Y")
                title = f"Сделка {number}"
                account = f"ООО Клиент {rng.randrange(5000)}"
            else:
                amount = f'"${whole:,}.{frac:02d}"'
                created_text = '"' + created.strftime("%d %b, %Y %H:%M:%S") + '"'
                closed_text = created_text if rng.random() < 0.5 else ""
                close_day = '"' + closed.strftime("%d %b, %Y 00:00:00") + '"'
                title = f'"Lewis, James {number}"'
                account = f"Account {rng.randrange(5000)}"
            cells = [
                f"P-{number}",
                title,
                account,
                rng.choice(OWNERS),
                rng.choice(STAGES),
                amount,
                created_text,
                closed_text,
                close_day,
                "CRM",
                "note",
            ]
            handle.write(delimiter.join(cells) + "\r\n")


def main() -> None:
    """Generate the file, then time reading + transforming it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--style", choices=["zoho", "ru"], default="zoho")
    parser.add_argument("--stream", action="store_true", help="use iter_transform and keep no records")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    mapping = parse_mapping(data=json.loads(json.dumps(MAPPING)), kind="deals")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"deals_{args.style}.csv"
        _generate(path, rows=args.rows, style=args.style, seed=args.seed)
        size_mb = path.stat().st_size / 1e6
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with open_csv(path) as table:
                if args.stream:
                    records = errors = 0
                    for outcome in iter_transform(
                        kind="deals", rows=table, mapping=mapping, header=table.header, tz="Europe/Moscow"
                    ):
                        if isinstance(outcome, Record):
                            records += 1
                        elif isinstance(outcome, RowError):
                            errors += 1
                else:
                    batch = transform(kind="deals", rows=table, mapping=mapping, tz="Europe/Moscow")
                    records, errors = len(batch.records), len(batch.errors)
                    del batch  # do not hold two batches while the next repeat runs
            timings.append(time.perf_counter() - started)
        best = min(timings)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{args.rows} rows ({args.style}, {size_mb:.1f} MB, {'stream' if args.stream else 'batch'}): "
            f"best {best:.2f} s of {args.repeat} ({args.rows / best:,.0f} rows/s); "
            f"records {records}, errors {errors}; peak RSS {peak_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
