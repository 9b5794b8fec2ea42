"""``crmpm xer schedule FILE --format json`` as a whole process against MPXJ on the same file, in one run.

Usage (from the repository root)::

    python bench/bench_xer_cli.py                      # 50,000 activities, crmpm and MPXJ, and `crmpm --help`
    python bench/bench_xer_cli.py --size 10000 --repeat 7
    python bench/bench_xer_cli.py --file plan.xer      # any XER file instead of the synthetic one
    python bench/bench_xer_cli.py --before /tmp/old    # also the same command from another checkout
    python bench/bench_xer_cli.py --phases             # where crmpm's time goes, inside one process

The file is the scheduler benchmark's synthetic project (``bench/bench_scheduler.py``'s ``generate``:
layers of activities, 1.5 links per activity of all four types, three calendars, constraints, the
first fifth in progress or complete) written by crmpm's XER writer.

Each side is a whole process, started, reading the file, scheduling it and writing JSON to a file:
crmpm as ``python -m crmpm xer schedule FILE --format json``, MPXJ as ``bench/mpxj/ScheduleXer.java``
(MPXJ's XER reader, its ``PrimaveraScheduler`` at the project's data date, the same fields printed as
JSON) on a JVM, compiled here against the jars of the ``mpxj`` Python package (a benchmark-only
dependency: ``pip install mpxj jpype1``; needs ``javac``, Java 17). The runs of the two alternate, so
both see the same load on a shared machine; each figure is the best of ``--repeat`` runs (wall clock,
and the child's CPU time and peak RSS from ``wait4``). ``crmpm --help`` is timed the same way.

MPXJ and crmpm do not schedule this file the same way (the file carries P6's key columns only, and
MPXJ's scheduler reads some of them otherwise): the outputs are not compared, the times are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JAVA_SOURCE = ROOT / "bench" / "mpxj" / "ScheduleXer.java"


def write_synthetic(n: int, path: Path) -> None:
    """The scheduler benchmark's project of ``n`` activities as an XER file."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_scheduler import generate
    from wbs.interchange.xer.writer import project_to_xer, write_xer_file
    from wbs.scheduling import schedule

    acts, rels, cals, opts = generate(n)
    write_xer_file(project_to_xer(acts, rels, cals, opts, code=f"SYN{n}", results=schedule(acts, rels, cals, opts)),
                   str(path))


def mpxj_command(work: Path) -> list[str] | None:
    """The java command line that runs ScheduleXer, compiled into ``work``; None without MPXJ or a JDK."""
    try:
        import mpxj  # noqa: F401 - only its folder of jars is used
    except ImportError:
        return None
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        return None
    jars = sorted((Path(mpxj.__file__).parent / "lib").glob("*.jar"))
    classpath = os.pathsep.join(str(j) for j in jars)
    subprocess.run([javac, "-cp", classpath, "-d", str(work), str(JAVA_SOURCE)], check=True)
    return [java, "-cp", os.pathsep.join([str(work), classpath]), "ScheduleXer"]


def timed(command: list[str], *, out: Path, env: dict | None = None) -> dict:
    """One run of ``command`` with stdout into ``out``: wall and CPU seconds, peak RSS (MB).

    Run from the folder of the code it runs (``python -m`` puts the current folder first on the path)."""
    with open(out, "wb") as stdout:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, env=env,
                                 cwd=env["PYTHONPATH"] if env else None)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    stderr = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def best(runs: list[dict]) -> dict:
    return {key: min(run[key] for run in runs) for key in runs[0]}


def crmpm_env(code: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(code)}


def phases(path: str, repeat: int) -> dict:
    """Inside one process (the collector paused, as the command does): best of ``repeat`` per phase."""
    import gc

    started = time.perf_counter()
    from wbs.interchange.xer.mapping import load_project
    from wbs.interchange.xer.reader import read_xer
    from wbs.interchange.xer.schedule import ScheduledProject, json_text
    from wbs.scheduling import schedule

    imports = time.perf_counter() - started
    gc.disable()
    times: dict[str, float] = {}
    for _ in range(repeat):
        marks = [time.perf_counter()]
        xer = read_xer(path)
        marks.append(time.perf_counter())
        project = load_project(xer)
        marks.append(time.perf_counter())
        results = schedule(project.activities, project.relationships, project.calendars, project.options,
                           project.wbs_parents)
        marks.append(time.perf_counter())
        text = json_text([ScheduledProject(project.code, project.options.data_date, project.activities, results)])
        marks.append(time.perf_counter())
        for name, (a, b) in zip(("read", "map", "schedule", "json"), zip(marks, marks[1:])):
            times[name] = min(times.get(name, float("inf")), b - a)
        del xer, project, results, text
    return {"imports": imports, **times}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=50_000, help="activities in the synthetic file")
    ap.add_argument("--file", help="an XER file instead of the synthetic one")
    ap.add_argument("--repeat", type=int, default=5, help="runs of crmpm (the best counts)")
    ap.add_argument("--mpxj-repeat", type=int, default=3, help="runs of MPXJ, alternating with crmpm's")
    ap.add_argument("--no-mpxj", action="store_true")
    ap.add_argument("--before", help="also run the command from the checkout at this path")
    ap.add_argument("--phases", action="store_true", help="also time the phases inside one process")
    ap.add_argument("--one-phases", help=argparse.SUPPRESS)
    ap.add_argument("--write-synthetic", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one_phases:
        print(json.dumps(phases(args.one_phases, args.repeat)))
        return
    if args.write_synthetic:
        write_synthetic(args.size, Path(args.write_synthetic))
        return

    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = Path(args.file) if args.file else work / f"synthetic-{args.size}.xer"
        if not args.file:
            # In a child: this process stays small, and so do the children it forks (a child's peak
            # RSS counts the parent's pages until it execs).
            subprocess.run([sys.executable, __file__, "--size", str(args.size), "--write-synthetic", str(path)],
                           check=True)
        print(f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB")
        mpxj = None if args.no_mpxj else mpxj_command(work)
        if mpxj is None and not args.no_mpxj:
            print("MPXJ skipped: needs `pip install mpxj jpype1`, javac and java")
        sides = {"crmpm": ([sys.executable, "-m", "crmpm", "xer", "schedule", str(path), "--format", "json"],
                           crmpm_env(ROOT))}
        if args.before:
            sides["before"] = (sides["crmpm"][0], crmpm_env(Path(args.before).resolve()))
        if mpxj is not None:
            sides["MPXJ"] = (mpxj + [str(path)], None)
        runs: dict[str, list[dict]] = {name: [] for name in sides}
        for round_ in range(max(args.repeat, args.mpxj_repeat if mpxj else 0)):
            for name, (command, env) in sides.items():
                if round_ < (args.mpxj_repeat if name == "MPXJ" else args.repeat):
                    runs[name].append(timed(command, out=work / f"{name}.json", env=env))
        help_runs = [timed([sys.executable, "-m", "crmpm", "--help"], out=work / "help.txt", env=crmpm_env(ROOT))
                     for _ in range(10)]
        # Counted, not parsed, and last: the text in this process would count in its children's peak RSS.
        activities = (work / "crmpm.json").read_text().count('\n      "code": ')
        result = {name: best(r) for name, r in runs.items()}
        result["crmpm --help"] = best(help_runs)
        print(f"{activities:,} activities; best of {args.repeat} (MPXJ: {args.mpxj_repeat}) runs, alternating")
        print(f"{'':<14} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}")
        for name, r in result.items():
            print(f"{name:<14} {r['wall']:>8.3f} {r['cpu']:>8.3f} {r['rss_mb']:>12.0f}")
        if "MPXJ" in result:
            ratio = result["MPXJ"]["wall"] / result["crmpm"]["wall"]
            print(f"MPXJ / crmpm, wall clock: {ratio:.1f} (CPU: {result['MPXJ']['cpu'] / result['crmpm']['cpu']:.1f})")
        if args.phases:
            out = subprocess.run([sys.executable, __file__, "--one-phases", str(path), "--repeat", str(args.repeat)],
                                 check=True, capture_output=True, text=True, env=crmpm_env(ROOT)).stdout
            ph = json.loads(out.strip().splitlines()[-1])
            print("phases in one process (best of runs): " + ", ".join(f"{k} {v:.3f} s" for k, v in ph.items()))
        print(json.dumps({"load": load, "activities": activities, **result}))


if __name__ == "__main__":
    main()
