"""Benchmark reading deals from an .xlsx workbook against the same deals as a CSV export, in one run.

Usage (from the repository root)::

    .venv/bin/python bench/bench_xlsx_read.py --rows 50000

Writes one workbook with cells typed as Excel types them (numbers, date-times) and one cp1251 CSV
with the same values as Russian exports write them ("1 234 567,89", "15.04.2021 10:30"), then
reads each with ``accounts.csvio.import_file`` (the whole reading layer: format, header, typing)
and prints rows per second, the ratio of the two and the peak memory. Run on the same machine
in one process, the ratio is what to compare between runs, not the seconds.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402

from accounts.csvio import import_file, parse_mapping  # noqa: E402

HEADER = ["ID", "Название", "Бюджет", "Валюта", "Создана", "Этап"]
MAPPING = {"columns": {"ID": "external_id", "Название": "title", "Бюджет": "amount", "Валюта": "currency",
                       "Создана": "engaged_at", "Этап": "stage"}}


def _rows(count: int, seed: int):
    rng = random.Random(seed)
    start = datetime(2015, 1, 1)
    for number in range(1, count + 1):
        yield (number, f"Сделка {number}", round(rng.uniform(1, 5_000_000), 2), "руб.",
               start + timedelta(minutes=rng.randint(0, 5_000_000)), "Новая")


def _write(folder: Path, *, rows: int, seed: int) -> tuple[Path, Path]:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Сделки")
    sheet.append(HEADER)
    with (folder / "deals.csv").open("w", encoding="cp1251", newline="") as handle:
        handle.write(";".join(HEADER) + "\r\n")
        for number, title, amount, currency, created, stage in _rows(rows, seed):
            sheet.append([number, title, amount, currency, created, stage])
            money = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
            handle.write(f"{number};{title};{money};{currency};{created:%d.%m.%Y %H:%M};{stage}\r\n")
    book.save(folder / "deals.xlsx")
    return folder / "deals.csv", folder / "deals.xlsx"


def _best(path: Path, mapping, repeat: int) -> tuple[float, int]:
    best, records = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        batch = import_file(kind="deals", path=path, mapping=mapping)
        best = min(best, time.perf_counter() - started)
        records = len(batch.records)
        assert not batch.errors, batch.errors[:3]
    return best, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    mapping = parse_mapping(data=MAPPING, kind="deals")
    with tempfile.TemporaryDirectory() as folder:
        csv_path, xlsx_path = _write(Path(folder), rows=args.rows, seed=args.seed)
        csv_seconds, csv_records = _best(csv_path, mapping, args.repeat)
        xlsx_seconds, xlsx_records = _best(xlsx_path, mapping, args.repeat)
        sizes = csv_path.stat().st_size / 1e6, xlsx_path.stat().st_size / 1e6
    assert csv_records == xlsx_records == args.rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{args.rows} rows: CSV ({sizes[0]:.1f} MB) best {csv_seconds:.2f} s ({args.rows / csv_seconds:,.0f} rows/s); "
          f"xlsx ({sizes[1]:.1f} MB) best {xlsx_seconds:.2f} s ({args.rows / xlsx_seconds:,.0f} rows/s); "
          f"xlsx/CSV {xlsx_seconds / csv_seconds:.1f}x; peak RSS {peak} MB")


if __name__ == "__main__":
    main()
