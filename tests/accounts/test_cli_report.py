"""``crmpm report funnel`` on the demo data, as a real process; figures checked with plain SQL."""

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{path}"}

    def run(*args, check=True):
        result = subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                                timeout=180)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    run("db", "upgrade")
    run("demo")
    run.path = path
    return run


def test_funnel_json_matches_the_database(demo_db):
    report = json.loads(demo_db("report", "funnel", "--pipeline", "B2B projects", "--format", "json").stdout)
    with sqlite3.connect(demo_db.path) as db:
        rows = db.execute("""
            SELECT s.kind, COUNT(*), SUM(d.amount) FROM deals d
            JOIN pipeline_stages s ON s.id = d.stage_id JOIN pipelines p ON p.id = d.pipeline_id
            WHERE p.name = 'B2B projects' GROUP BY s.kind""").fetchall()
    counts = {kind: count for kind, count, _cents in rows}
    won_cents = {kind: cents for kind, _count, cents in rows}.get("won", 0)
    assert counts["won"] > 0 and counts["lost"] > 0 and counts["open"] > 0
    assert (report["won"], report["lost"], report["open"]) == (counts["won"], counts["lost"], counts["open"])
    assert report["win_rate"] == round(counts["won"] / (counts["won"] + counts["lost"]), 4)
    assert Decimal(report["won_value"]) == Decimal(won_cents) / 100  # SQLite keeps money in minor units
    assert sum(stage["count"] for stage in report["by_stage"]) == sum(counts.values())


def test_funnel_text_and_other_pipelines(demo_db):
    text = demo_db("report", "funnel").stdout
    assert "win rate" in text and "Qualification" in text
    empty = json.loads(demo_db("report", "funnel", "--pipeline", "Service contracts", "--format", "json").stdout)
    assert empty["won"] == 0 and empty["win_rate"] is None
    missing = demo_db("report", "funnel", "--pipeline", "Nope", check=False)
    assert missing.returncode == 2 and "no pipeline named 'Nope'" in missing.stderr


def test_forecast_json(demo_db):
    rows = json.loads(demo_db("report", "forecast", "--format", "json").stdout)
    assert rows and all(Decimal(row["weighted_value"]) <= Decimal(row["value"]) for row in rows)


def test_process_handovers_command(demo_db):
    result = demo_db("crm", "process-handovers")
    assert result.stdout.strip() == "handed over for 0 absence(s), given back for 0"
