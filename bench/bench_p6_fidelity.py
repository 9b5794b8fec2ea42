"""How closely crmpm and MPXJ reproduce P6's own schedule in real XER files.

Usage (from the repository root)::

    CRMPM_FIXTURES_DIR=../shared/fixtures python bench/bench_p6_fidelity.py
    python bench/bench_p6_fidelity.py --no-mpxj            # crmpm only
    python bench/bench_p6_fidelity.py FILE.xer ...         # some files only
    python bench/bench_p6_fidelity.py --mismatches         # also list every mismatch

Every real file is scored: ``tests/fixtures/xer/*.xer`` and the external corpus's ``xer/*.xer``
(``CRMPM_FIXTURES_DIR``, default ``../shared/fixtures`` beside the repository). Each file's TASK table holds
P6's own results; both schedulers are held to the one rule of :mod:`wbs.interchange.xer.fidelity` (every
activity not complete and dated by P6: the four early/late dates to the minute, total float to 0.01 h).

* crmpm: ``python -m crmpm xer schedule FILE --format json``, run as a child process, exactly as a user runs it.
* MPXJ: ``org.mpxj.cpm.PrimaveraScheduler`` through MPXJ's Python package, a benchmark-only dependency
  kept out of ``pyproject.toml`` (``pip install mpxj jpype1`` into the virtual environment; Java 17 on the
  path). Every project of the file is read (``PrimaveraXERFileReader.readAll``), the dates P6 stored are
  cleared, and each project is scheduled from its planned start with the file's data date as status date,
  as MPXJ's "How To: Use the CPM Schedulers" describes. One child process runs the JVM for all files.

Per file: activities compared, the share matching in every field for crmpm and for MPXJ, and the
mismatches counted by field (an activity can miss in several fields).  Two overall lines: over all files,
and over the files fit as oracles, leaving out the files and projects whose stored dates cannot come from
their own data (``tests/wbs/xer_fixtures.py`` gives each one's reason; the golden tests skip the same). A file a scheduler refuses counts
every compared activity as missing in every field, and the refusal is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from wbs.interchange.xer.fidelity import FIELDS, compared, mismatches  # noqa: E402
from wbs.interchange.xer.reader import read_xer  # noqa: E402
from tests.wbs.xer_fixtures import NOT_FROM_OWN_DATA, PROJECTS_NOT_FROM_OWN_DATA  # noqa: E402

SHORT = {"early_start": "ES", "early_finish": "EF", "late_start": "LS", "late_finish": "LF",
         "total_float_hours": "TF"}


def corpus_dir() -> Path:
    configured = os.environ.get("CRMPM_FIXTURES_DIR")
    return Path(configured).expanduser().resolve() if configured else ROOT.parent / "shared" / "fixtures"


def real_files() -> list[Path]:
    """The repository's XER files and the corpus's, each name once (the repository's copy first)."""
    found: dict[str, Path] = {}
    for folder in (ROOT / "tests" / "fixtures" / "xer", corpus_dir() / "xer"):
        for path in sorted(folder.glob("*.xer")):
            found.setdefault(path.name, path)
    return [found[name] for name in sorted(found)]


def reference(path: Path) -> dict[tuple[str, str], dict]:
    """P6's rows the rule compares, by (project short name, activity code)."""
    xer = read_xer(path)
    projects = {row["proj_id"]: row["proj_short_name"] for row in xer.rows("PROJECT")}
    return {(projects.get(row["proj_id"], row["proj_id"]), row["task_code"]): row for row in compared(xer.rows("TASK"))}


def crmpm_dates(path: Path) -> tuple[dict, str | None]:
    """crmpm's dates by (project, code), or an empty mapping and the error it printed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "crmpm", "xer", "schedule", str(path), "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    if run.returncode != 0:
        return {}, (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
    payload = json.loads(run.stdout)
    projects = payload if isinstance(payload, list) else [payload]
    return {(p["project"], a["code"]): a for p in projects for a in p["activities"]}, None


def mpxj_dates(paths: list[Path]) -> dict[str, tuple[dict, str | None]]:
    """MPXJ's dates for each file (by its path), from one child process running the JVM."""
    run = subprocess.run([sys.executable, __file__, "--mpxj-worker", *map(str, paths)], capture_output=True, text=True)
    if run.returncode != 0:
        reason = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
        return {str(path): ({}, f"MPXJ did not run: {reason}") for path in paths}
    out = {}
    for name, item in json.loads(run.stdout).items():
        out[name] = ({(project, code): dates for project, code, dates in item["activities"]}, item["error"])
    return out


def _mpxj_worker(paths: list[str]) -> None:
    """Print {path: {"activities": [[project, code, dates]], "error": ...}} as JSON: MPXJ's schedule of each file."""
    import jpype
    import mpxj  # noqa: F401  (puts MPXJ's jars on the class path)

    jpype.startJVM()
    from org.mpxj import TaskField, TimeUnit
    from org.mpxj.cpm import PrimaveraScheduler
    from org.mpxj.primavera import PrimaveraXERFileReader

    stored = (TaskField.EARLY_START, TaskField.EARLY_FINISH, TaskField.LATE_START, TaskField.LATE_FINISH,
              TaskField.TOTAL_SLACK, TaskField.FREE_SLACK)

    def text(value):
        return None if value is None else str(value)[:16]

    out = {}
    for path in paths:
        activities, errors = [], []
        try:
            files = list(PrimaveraXERFileReader().readAll(path))
        except Exception as exc:  # a Java exception: report it as the file's error
            out[path] = {"activities": [], "error": f"read: {exc}"}
            continue
        for file in files:
            props = file.getProjectProperties()
            tasks = [task for task in file.getTasks() if task.getActivityID() is not None and not task.getSummary()]
            for task in tasks:  # measure MPXJ's own dates and floats, not the ones P6 stored
                for field in stored:
                    task.set(field, None)
            try:
                PrimaveraScheduler().schedule(file, props.getPlannedStart())
            except Exception as exc:
                errors.append(f"{props.getProjectID()}: {exc}")
                continue
            for task in tasks:
                slack = task.getTotalSlack()
                hours = None if slack is None else float(slack.convertUnits(TimeUnit.HOURS, props).getDuration())
                activities.append([str(props.getProjectID()), str(task.getActivityID()), {
                    "early_start": text(task.getEarlyStart()), "early_finish": text(task.getEarlyFinish()),
                    "late_start": text(task.getLateStart()), "late_finish": text(task.getLateFinish()),
                    "total_float_hours": hours}])
        out[path] = {"activities": activities, "error": "; ".join(errors) or None}
    print(json.dumps(out))


def _unfit(name: str, rows: dict) -> list:
    """The keys of ``rows`` left out of the fit files' overall: the whole file, or its unfit projects."""
    if name in NOT_FROM_OWN_DATA:
        return list(rows)
    return [key for key in rows if (name, key[0]) in PROJECTS_NOT_FROM_OWN_DATA]


def score(rows: dict, dates: dict) -> tuple[int, Counter, list]:
    """Activities matching in every field, mismatches by field, and the mismatches themselves."""
    matching, by_field, listed = 0, Counter(), []
    for key, row in rows.items():
        ours = dates.get(key)
        if ours is None:
            found = [f"{row['task_code']} not scheduled"]
            by_field.update(FIELDS)
        else:
            found = mismatches(row, **{field: ours.get(field) for field in FIELDS})
            by_field.update(m.field for m in found)
        matching += not found
        listed.extend(found)
    return matching, by_field, listed


def _fields(by_field: Counter) -> str:
    return " ".join(f"{SHORT[field]} {by_field[field]}" for field in FIELDS if by_field[field]) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="XER files (default: every real file)")
    parser.add_argument("--no-mpxj", action="store_true", help="score crmpm only")
    parser.add_argument("--mismatches", action="store_true", help="list every mismatch")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--mpxj-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mpxj_worker:
        _mpxj_worker([str(path) for path in args.files])
        return
    paths = args.files or real_files()
    theirs = {} if args.no_mpxj else mpxj_dates(paths)
    print("| file | compared | crmpm % | crmpm mismatches by field | MPXJ % | MPXJ mismatches by field |")
    print("|---|---:|---:|---|---:|---|")
    totals, fit, figures, notes = Counter(), Counter(), [], []
    for path in paths:
        rows = reference(path)
        unfit = _unfit(path.name, rows)
        line = {"file": path.name, "compared": len(rows)}
        cells = []
        for tool, (dates, error) in (("crmpm", crmpm_dates(path)), ("MPXJ", theirs.get(str(path), ({}, None)))):
            if tool == "MPXJ" and args.no_mpxj:
                cells += ["", ""]
                continue
            matching, by_field, listed = score(rows, dates)
            totals[tool] += matching
            fit[tool] += matching - score({key: rows[key] for key in unfit}, dates)[0]
            line[tool] = {"matching": matching, "by_field": dict(by_field), "error": error}
            cells += [f"{100 * matching / len(rows):.1f}" if rows else "n/a", _fields(by_field)]
            if error:
                notes.append(f"{path.name}: {tool}: {error}")
            if args.mismatches and listed:
                notes.extend(f"{path.name}: {tool}: {m}" for m in listed)
        totals["compared"] += len(rows)
        fit["compared"] += len(rows) - len(unfit)
        figures.append(line)
        print(f"| {path.name} | {len(rows)} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    for label, counts in (("all files", totals), ("files fit as oracles", fit)):
        if counts["compared"]:
            share = {tool: f"{100 * counts[tool] / counts['compared']:.1f}" for tool in ("crmpm", "MPXJ")}
            print(f"| {label} | {counts['compared']} | {share['crmpm']} | | {'' if args.no_mpxj else share['MPXJ']} | |")
    left_out = [name for name in NOT_FROM_OWN_DATA if name in {path.name for path in paths}]
    left_out += [f"{name} project {code}" for name, code in PROJECTS_NOT_FROM_OWN_DATA
                 if name in {path.name for path in paths}]
    if left_out:
        print("Not fit as oracles (stored dates not from their own data; see tests/wbs/xer_fixtures.py): "
              + ", ".join(left_out))
    for note in notes:
        print(note)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
