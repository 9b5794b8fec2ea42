"""Time of the import limits' count (``wbs.interchange.limits.check_file``) on XER files of about 33 MB,
against the time parsing such a file takes.

Usage (from the repository root)::

    .venv/bin/python bench/bench_limits.py            # the counts, best of --repeat
    .venv/bin/python bench/bench_limits.py --parse    # and one parse (read_xer) of the first file: ~800 MB
    PYTHONPATH=<other checkout> .venv/bin/python bench/bench_limits.py   # the same files under other code

Each file holds 10,000 activities and 1,000,000 relationships (the shape of the issue's 30 MB file that
took a worker to 1.5 GB), as:

- *one project*: every row one project's (one PROJECT row: no row is read, the tables are counted);
- *two projects*: the rows shared by two projects (each row's ``proj_id`` is read);
- *project + baseline*: one project with 10,000 activities and a baseline project of as many.

"accepted" times the whole count (limits raised so that nothing is refused); "refused" the defaults, which
refuse every one of these files (1,000,000 relationships; under the file ceiling, its 1,010,000 rows).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

ACTIVITIES, RELATIONSHIPS = 10_000, 1_000_000


def xer_file(shape: str) -> bytes:
    """An XER file of the shape named (see the module notes)."""
    projects = {"one project": ["%R\t1\tMAIN\tY\t\t"],
                "two projects": ["%R\t1\tMAIN\tY\t\t", "%R\t2\tOTHER\tY\t\t"],
                "project + baseline": ["%R\t1\tMAIN\tY\t\t2", "%R\t2\tBL\tN\t1\t"]}[shape]
    owner = (lambda n: 1 + n % 2) if shape == "two projects" else (lambda n: 1)
    lines = ["ERMHDR\t19.12\t2026-12-04\tProject\tadmin\tadmin\tdbx\tProject Management\tUSD",
             "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tproject_flag\torig_proj_id\tsum_base_proj_id", *projects,
             "%T\tTASK", "%F\ttask_id\tproj_id\twbs_id\ttask_code\ttask_name"]
    lines += [f"%R\t{n}\t{owner(n)}\t1\tA{n}\tWork {n}" for n in range(ACTIVITIES)]
    if shape == "project + baseline":
        lines += [f"%R\t{ACTIVITIES + n}\t2\t1\tA{n}\tWork {n}" for n in range(ACTIVITIES)]
    lines += ["%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\tpred_type\tlag_hr_cnt"]
    lines += [f"%R\t{n}\t{n % ACTIVITIES}\t{(n * 7) % ACTIVITIES}\t{owner(n)}\t{owner(n)}\tPR_FS\t0"
              for n in range(RELATIONSHIPS)]
    return ("\r\n".join([*lines, "%E"]) + "\r\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parse", action="store_true", help="also time one read_xer of the first file")
    args = parser.parse_args()
    from crmpm.errors import Invalid
    from wbs.interchange.limits import FileLimits, check_file
    from wbs.interchange.xer.reader import read_xer

    names = {field.name for field in dataclasses.fields(FileLimits)}
    high = FileLimits(**{name: 10 ** 9 for name in names})  # this checkout's limits, whichever they are

    def best(data, limits):
        times, outcome = [], "accepted"
        for _ in range(args.repeat):
            started = time.perf_counter()
            try:
                check_file("xer", data, limits)
            except Invalid as exc:
                outcome = f"refused: {exc.errors['file'][0]}"
            times.append(time.perf_counter() - started)
        return min(times), outcome

    print(f"{'file':<20} {'MB':>5} {'accepted':>9} {'refused':>9}  refusal")
    for shape in ("one project", "two projects", "project + baseline"):
        data = xer_file(shape)
        accepted, _outcome = best(data, high)
        refused, outcome = best(data, FileLimits())
        print(f"{shape:<20} {len(data) / 1e6:5.1f} {accepted:8.3f}s {refused:8.3f}s  {outcome}")
    if args.parse:
        data = xer_file("one project")
        started = time.perf_counter()
        read_xer(data)
        print(f"parse (read_xer) of the one-project file: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
