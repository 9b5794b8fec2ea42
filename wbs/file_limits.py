"""How much one imported XER or MSPDI file may hold, counted in the raw file before it is parsed.

Parsing grows memory with the file's rows: a 30 MB XER of 1,000,000 relationships
took a worker to 1.5 GB. The rows that matter are counted on the bytes as they
came (one pass in C, no copy: a table's ``%R`` lines in XER, the elements in
MSPDI), and a file over any limit is refused with :class:`~crmpm.errors.Invalid`
(422) naming what it holds and the limit, before anything is parsed.

MSPDI has no separate WBS: its summary tasks are the WBS elements, so its
``Task`` elements are held to activities + WBS elements together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from crmpm.errors import Invalid, Phrase

__all__ = ["FileLimits", "check_file", "mspdi_counts", "xer_counts"]


@dataclass(frozen=True)
class FileLimits:
    """The most one file may hold of each kind of row."""

    activities: int = 100_000
    relationships: int = 400_000
    wbs_elements: int = 20_000
    calendars: int = 1_000

    @classmethod
    def from_config(cls, config: Mapping) -> FileLimits:
        """From ``IMPORT_MAX_ACTIVITIES``, ``…_RELATIONSHIPS``, ``…_WBS_ELEMENTS``, ``…_CALENDARS``."""
        return cls(**{field.name: int(config.get(config_key(field.name), field.default)) for field in fields(cls)})


def config_key(kind: str) -> str:
    return f"IMPORT_MAX_{kind.upper()}"


# XER tables and what their rows are.
_XER_TABLES = {b"TASK": "activities", b"TASKPRED": "relationships", b"PROJWBS": "wbs_elements",
               b"CALENDAR": "calendars"}


def _xer_tables(data: bytes):
    """``(offset, name)`` of each ``%T`` line (a memchr-speed find per table, not a scan per byte)."""
    at = 0 if data.startswith(b"%T\t") else data.find(b"\n%T\t")
    while at != -1:
        start = at if data.startswith(b"%T\t", at) else at + 1
        end = data.find(b"\n", start)
        line = data[start + 3:end if end != -1 else len(data)]
        yield start, line.split(b"\t", 1)[0].strip()
        at = data.find(b"\n%T\t", start)


def xer_counts(data: bytes) -> dict[str, int]:
    """Rows of the limited tables in an XER file (every project in it together)."""
    counts = dict.fromkeys(_XER_TABLES.values(), 0)
    tables = list(_xer_tables(data))
    for (start, name), (end, _next) in zip(tables, tables[1:] + [(len(data), b"")]):
        kind = _XER_TABLES.get(name)
        if kind is not None:
            counts[kind] += data.count(b"\n%R", start, end)
    return counts


# The three counted elements in one pass; a namespace prefix (<p:Task>) counts as well.
_MSPDI_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?(Task|PredecessorLink|Calendar)[\s/>]")
_MSPDI_KINDS = {b"Task": "tasks", b"PredecessorLink": "relationships", b"Calendar": "calendars"}


def mspdi_counts(data: bytes) -> dict[str, int]:
    """``Task`` (activities and WBS summaries), ``PredecessorLink`` and ``Calendar`` elements of an MSPDI file."""
    counts = dict.fromkeys(_MSPDI_KINDS.values(), 0)
    for match in _MSPDI_ELEMENT.finditer(data):
        counts[_MSPDI_KINDS[match.group(1)]] += 1
    return counts


def check_file(kind: str, data: bytes, limits: FileLimits) -> None:
    """Refuse an ``"xer"`` or ``"mspdi"`` file holding more than ``limits`` allow (Invalid, 422)."""
    if kind == "xer":
        counts = xer_counts(data)
        allowed = {name: getattr(limits, name) for name in counts}
    else:
        counts = mspdi_counts(data)
        allowed = {"tasks": limits.activities + limits.wbs_elements, "relationships": limits.relationships,
                   "calendars": limits.calendars}
    for name, count in counts.items():
        if count > allowed[name]:
            setting = "CRMPM_IMPORT_MAX_ACTIVITIES + …_WBS_ELEMENTS" if name == "tasks" else f"CRMPM_{config_key(name)}"
            raise Invalid("the file holds {count:,} {what}; at most {limit:,} are accepted in one file",
                          count=count, what=_WHAT[name], limit=allowed[name],
                          errors={"file": [f"{name}: {count} > {allowed[name]} ({setting})"]})


_WHAT = {"activities": Phrase("activities"), "relationships": Phrase("relationships"),
         "wbs_elements": Phrase("WBS elements"), "calendars": Phrase("calendars"), "tasks": Phrase("tasks")}
