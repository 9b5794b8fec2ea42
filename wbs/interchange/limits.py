"""How much one imported XER or MSPDI file may hold, counted in the raw file before it is parsed.

Parsing grows memory with the file's rows: a 30 MB XER of 1,000,000 relationships
took a worker to 1.5 GB. The rows that matter are counted on the bytes as they
came (one pass in C, no copy: a table's ``%R`` lines in XER, the elements in
MSPDI), and a file over any limit is refused with :class:`~crmpm.errors.Invalid`
(422) naming what it holds and the limit, before anything is parsed.

Each format counts its own file (:func:`~wbs.interchange.xer.reader.xer_counts`,
:func:`~wbs.interchange.mspdi.reader.mspdi_counts`); here the counts meet the limits.

MSPDI has no separate WBS: its summary tasks are the WBS elements, so its
``Task`` elements are held to activities + WBS elements together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from crmpm.errors import Invalid, Phrase
from wbs.interchange.mspdi.reader import mspdi_counts
from wbs.interchange.xer.reader import xer_counts

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
