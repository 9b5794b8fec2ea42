"""Running the README's walk-through commands as a new user types them, on a fresh SQLite database."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path


class Shell:
    """``crmpm …`` lines run as processes in ``folder`` (the user's working directory) on their own database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "crmpm.db"
        self.env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{self.db}"}

    def run(self, words: list[str]) -> subprocess.CompletedProcess:
        assert words[0] == "crmpm", words
        return subprocess.run([sys.executable, "-m", "crmpm", *words[1:]], cwd=self.folder, env=self.env,
                              capture_output=True, text=True, timeout=300)

    def query(self, sql: str, *params):
        with sqlite3.connect(self.db) as db:
            return db.execute(sql, params).fetchall()


def read_owners_csv(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["name"]: row["email"] for row in csv.DictReader(handle)}


def write_owners_csv(path: Path, table: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email"])
        writer.writerows(table.items())


def expected_funnel(deals: list[dict], *, stage_of, amount_of, won: set[str], lost: set[str]) -> dict:
    """The funnel's figures computed from the test file alone: counts by stage, won/lost/open, won value, win rate."""
    stages = Counter(stage_of(deal) for deal in deals)
    won_count = sum(n for stage, n in stages.items() if stage in won)
    lost_count = sum(n for stage, n in stages.items() if stage in lost)
    won_value = sum((amount_of(deal) for deal in deals if stage_of(deal) in won), Decimal("0"))
    return {"total": len(deals), "won": won_count, "lost": lost_count, "open": len(deals) - won_count - lost_count,
            "won_value": won_value, "win_rate": round(won_count / (won_count + lost_count), 4),
            "open_stages": {stage: n for stage, n in stages.items() if stage not in won | lost}}


def check_funnel(output: str, expected: dict, *, stage_names: dict[str, str]) -> None:
    """The JSON of ``crmpm report funnel --format json`` against ``expected`` (open stages by crmpm name)."""
    report = json.loads(output)
    assert {key: report[key] for key in ("total", "won", "lost", "open")} == \
        {key: expected[key] for key in ("total", "won", "lost", "open")}
    assert Decimal(str(report["won_value"])) == expected["won_value"]
    assert report["win_rate"] == expected["win_rate"]
    counts = {row["stage"]: row["count"] for row in report["by_stage"] if row["kind"] == "open"}
    for stage, count in expected["open_stages"].items():
        assert counts[stage_names.get(stage, stage)] == count, stage
