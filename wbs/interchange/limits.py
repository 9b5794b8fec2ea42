"""How much one imported XER or MSPDI file may hold, counted in the raw file before it is parsed.

Parsing grows memory with the file's rows: a 30 MB XER of 1,000,000 relationships
took a worker to 1.5 GB. The rows that matter are counted on the bytes as they
came (a table's ``%R`` lines in XER, the elements in MSPDI: no parse, no copy of
the file), and a file over any limit is refused with :class:`~crmpm.errors.Invalid`
(422) naming what is over which limit and its setting, before anything is parsed.

The limits say what a user means by "a project too big" (docs/decisions/0010):

- activities, relationships, WBS elements and resource assignments (TASKRSRC) are those of the project being
  imported (``proj``, else the file's first), its own rows only;
- its baselines (P6's hidden baseline projects, :mod:`wbs.interchange.xer.baselines`)
  are copies of it: their activities count against ``baseline_activities``
  (by default three times ``activities``, the primary, secondary and tertiary
  baselines of P6), all of them together;
- other projects in the file are not imported and count against nothing of
  the project's; calendars are counted in the whole file (global ones belong to
  no project);
- and the memory bound: every ``%R`` row of the file, of any table and any
  project, counts against ``file_rows``, since the parser holds them all.

Each format counts its own file (:func:`~wbs.interchange.xer.reader.xer_row_counts`,
:func:`~wbs.interchange.mspdi.reader.mspdi_counts`); here the counts meet the limits.

MSPDI holds one project and no separate WBS: its summary tasks are the WBS
elements, so its ``Task`` elements are held to activities + WBS elements
together. Its baselines are ``Baseline`` fields inside each task, which are
not counted (the 50 MiB upload cap bounds them, as it bounds every element).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from crmpm.errors import Invalid, Phrase
from wbs.interchange.mspdi.reader import mspdi_counts
from wbs.interchange.xer.mapping import baseline_projects, choose_project, is_baseline_project
from wbs.interchange.xer.reader import xer_counts, xer_row_counts, xer_rows

__all__ = ["FileLimits", "check_file", "mspdi_counts", "xer_counts"]

BASELINE_MULTIPLE = 3  # baseline activities allowed by default, per activity allowed


@dataclass(frozen=True)
class FileLimits:
    """The most one imported project (and the file holding it) may hold of each kind of row."""

    activities: int = 100_000
    relationships: int = 400_000
    wbs_elements: int = 20_000
    calendars: int = 1_000
    assignments: int = 400_000
    baseline_activities: int | None = None  # None: BASELINE_MULTIPLE × activities
    file_rows: int = 1_000_000

    @property
    def baseline_activities_allowed(self) -> int:
        if self.baseline_activities is None:
            return BASELINE_MULTIPLE * self.activities
        return self.baseline_activities

    @classmethod
    def from_config(cls, config: Mapping) -> FileLimits:
        """From ``IMPORT_MAX_ACTIVITIES``, ``…_RELATIONSHIPS``, ``…_WBS_ELEMENTS``, ``…_CALENDARS``, ``…_ASSIGNMENTS``,
        ``…_BASELINE_ACTIVITIES`` and ``…_FILE_ROWS`` (each the default when missing or None)."""
        values = {field.name: config.get(config_key(field.name)) for field in fields(cls)}
        return cls(**{name: int(value) for name, value in values.items() if value is not None})


def config_key(kind: str) -> str:
    return f"IMPORT_MAX_{kind.upper()}"


def check_file(kind: str, data: bytes, limits: FileLimits, *, proj: str | None = None) -> None:
    """Refuse an ``"xer"`` or ``"mspdi"`` file holding more than ``limits`` allow (Invalid, 422).

    ``proj``: the XER project to be imported (its ``proj_id`` or ``proj_short_name``; the file's first
    when None), as the import chooses it; a name the file does not hold is refused as the import refuses it.
    """
    if kind == "xer":
        _check_xer(data, limits, proj)
        return
    counts = mspdi_counts(data)
    allowed = {"tasks": limits.activities + limits.wbs_elements, "relationships": limits.relationships,
               "calendars": limits.calendars}
    for name, count in counts.items():
        setting = (f"CRMPM_{config_key('activities')} + CRMPM_{config_key('wbs_elements')}" if name == "tasks"
                   else None)
        if over := _over(name, count, allowed[name], setting):
            _refuse_in_the_file(over)


def _check_xer(data: bytes, limits: FileLimits, proj: str | None) -> None:
    # The memory bound first (one count of the bytes): it is what the limits protect, whichever project is
    # chosen, and a file over it is refused before its rows are read project by project.
    if over := _over("file_rows", xer_rows(data), limits.file_rows):
        raise Invalid("the file holds {count:,} {what} of all its projects and baselines together; at most "
                      "{limit:,} are accepted in one file ({setting})", **over)
    counts = xer_row_counts(data)
    if over := _over("calendars", counts.totals["calendars"], limits.calendars):
        _refuse_in_the_file(over)
    projects = [(row["proj_id"], row.get("proj_short_name", "")) for row in counts.projects
                if not is_baseline_project(row)]
    if not projects:
        return  # no project to import: the import refuses the file, and the file's rows are within bounds
    chosen = choose_project(projects, proj)
    name = dict(projects)[chosen] or chosen
    for kind in ("activities", "relationships", "wbs_elements", "assignments"):
        if over := _over(kind, counts.of(kind, [chosen]), getattr(limits, kind)):
            raise Invalid("project {project} in the file holds {count:,} {what}; at most {limit:,} are accepted "
                          "in one project ({setting})", project=name, **over)
    baselines = [row["proj_id"] for row in baseline_projects(counts.projects, chosen)]
    if over := _over("baseline_activities", counts.of("activities", baselines), limits.baseline_activities_allowed):
        raise Invalid("the baselines of project {project} in the file hold {count:,} {what} together; at most "
                      "{limit:,} are accepted ({setting})", project=name, **over)


def _over(kind: str, count: int, limit: int, setting: str | None = None) -> dict | None:
    """The error's parameters when ``count`` is over ``limit``; the setting named is what moves the limit."""
    if count <= limit:
        return None
    setting = setting or f"CRMPM_{config_key(kind)}"
    return {"count": count, "what": _WHAT[kind], "limit": limit, "setting": setting,
            "errors": {"file": [f"{kind}: {count} > {limit} ({setting})"]}}


def _refuse_in_the_file(over: dict) -> None:
    """Said of MSPDI elements and of calendars, which are counted in the whole file."""
    raise Invalid("the file holds {count:,} {what}; at most {limit:,} are accepted in one file ({setting})", **over)


_WHAT = {"activities": Phrase("activities"), "relationships": Phrase("relationships"),
         "wbs_elements": Phrase("WBS elements"), "calendars": Phrase("calendars"), "tasks": Phrase("tasks"),
         "assignments": Phrase("resource assignments"),
         "baseline_activities": Phrase("activities"), "file_rows": Phrase("rows")}
