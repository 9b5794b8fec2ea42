"""Read Primavera P6 XER files into tables of string dicts.

An XER file is tab-separated text::

    ERMHDR  <version>  <export date>  ...
    %T      TABLE
    %F      field1  field2 ...
    %R      value1  value2 ...
    %E

Every table keeps its rows as ``dict`` of raw strings, exactly as written,
so that :mod:`wbs.interchange.xer.writer` can write them back unchanged; typed
conversion happens in :mod:`wbs.interchange.xer.mapping` with the helpers here.

Encoding
--------
P6 writes XER in the Windows code page of the exporting machine, almost
always cp1252; some tools write UTF-8.  The bytes are decoded as UTF-8 when
they are valid UTF-8 (a cp1252 file with any accented character is
practically never valid UTF-8, and a pure-ASCII file reads the same either
way), else as cp1252, and if even that fails (cp1252 leaves five byte
values undefined) as latin-1, which accepts every byte.  The chosen name is
kept in :attr:`XerFile.encoding`.

Errors
------
A malformed file raises :class:`XerError` naming the table and the 1-based
line: a row with more values than its ``%F`` line, a ``%R`` or ``%F`` outside
a table, a required column missing, an unparseable date or number in a
date or numeric column.  Optional tables may simply be absent.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

__all__ = [
    "XerError",
    "XerTable",
    "XerFile",
    "read_xer",
    "parse_xer",
    "decode_xer",
    "parse_date",
    "parse_number",
    "REQUIRED_FIELDS",
    "xer_counts",
    "xer_row_counts",
    "xer_rows",
    "XerRowCounts",
]

REQUIRED_FIELDS = {
    "PROJECT": ("proj_id",),
    "CALENDAR": ("clndr_id", "clndr_data"),
    "PROJWBS": ("wbs_id", "proj_id"),
    "TASK": ("task_id", "proj_id", "task_code"),
    "TASKPRED": ("task_id", "pred_task_id", "pred_type"),
    "SCHEDOPTIONS": ("proj_id",),
}
"""Columns without which a table cannot be used, checked at its ``%F`` line."""

# Columns checked for numbers when read: P6's naming is regular enough.
_NUMBER_SUFFIXES = ("_hr_cnt", "_qty", "_pct", "_cost")


class XerError(ValueError):
    """A malformed XER file.

    Attributes
    ----------
    table : str or None
    line : int or None
        1-based line number in the file.
    """

    def __init__(self, message, table=None, line=None):
        self.table = table
        self.line = line
        where = []
        if table:
            where.append(f"table {table}")
        if line:
            where.append(f"line {line}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class XerTable:
    """One ``%T`` table: field names, rows and their line numbers.

    A table read from a file keeps each row as the list of its values (``values``: as many as ``fields``,
    in their order); ``rows`` gives them as dicts of raw strings by field name, built on first use and
    kept (then ``rows`` is the table: changes go there). A hot reader such as the schedule's mapping reads
    ``values`` by column position and never builds the dicts (50,000 activities: a tenth of the command).
    """

    __slots__ = ("name", "fields", "_rows", "_values", "lines", "field_line")

    def __init__(self, name, fields, rows=None, lines=None, field_line=0):
        self.name = name
        self.fields = fields
        self._rows = rows
        self._values = None if rows is not None else []
        self.lines = [] if lines is None else lines
        self.field_line = field_line

    @classmethod
    def of(cls, name, fields, rows):
        """A table built in code: ``rows`` (dicts) each given every one of ``fields``, ``""`` where it lacks one."""
        return cls(name, list(fields), rows=[{f: r.get(f, "") for f in fields} for r in rows])

    @property
    def rows(self):
        """Rows as dicts of raw strings (built from ``values`` on first use)."""
        if self._rows is None:
            fields = self.fields
            self._rows = list(map(dict, map(zip, repeat(fields), self._values)))
            self._values = None
        return self._rows

    @rows.setter
    def rows(self, rows):
        self._rows, self._values = rows, None

    @property
    def values(self):
        """Rows as lists of values in ``fields`` order (``""`` for a field a dict row lacks)."""
        if self._values is not None:
            return self._values
        fields = self.fields
        return [[row.get(f, "") for f in fields] for row in self._rows]

    def add(self, values, line):
        """Append one row's values (as many as ``fields``), read at ``line``."""
        if self._values is not None:
            self._values.append(values)
        else:
            self._rows.append(dict(zip(self.fields, values)))
        self.lines.append(line)

    def extend(self, rows_values, lines):
        """Append rows' values read at ``lines``."""
        if self._values is not None:
            self._values.extend(rows_values)
        else:
            self._rows.extend(map(dict, map(zip, repeat(self.fields), rows_values)))
        self.lines.extend(lines)

    def column(self, name):
        """Position of field ``name`` in ``values``' lists, or None when the table lacks it."""
        try:
            return self.fields.index(name)
        except ValueError:
            return None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self._values) if self._values is not None else len(self._rows)

    def __repr__(self):
        return f"XerTable({self.name!r}, {len(self.fields)} fields, {len(self)} rows)"


@dataclass(slots=True)
class XerFile:
    """A parsed XER file: its header values and its tables by name, in file order."""

    header: list
    tables: dict
    encoding: str = "cp1252"

    def table(self, name):
        """The table called ``name``, or an empty one when the file has none."""
        t = self.tables.get(name)
        return t if t is not None else XerTable(name, [])

    def rows(self, name):
        """Rows of table ``name`` (empty list when absent)."""
        t = self.tables.get(name)
        return t.rows if t is not None else []


def decode_xer(data):
    """Decode XER bytes; return ``(text, encoding)`` (see the module notes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def parse_date(value, table=None, line=None, column=None):
    """Parse an XER date (``YYYY-MM-DD HH:MM``, seconds or date-only tolerated).

    Empty strings give ``None``; anything else unparseable raises :class:`XerError`.
    """
    if not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise XerError(f"bad date {value!r} in column {column}", table, line) from None


def parse_number(value, table=None, line=None, column=None):
    """Parse an XER number; empty strings give ``None``."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise XerError(f"bad number {value!r} in column {column}", table, line) from None


def _checked_columns(fields):
    dates = [f for f in fields if f.endswith("_date") or f.endswith("_date2")]
    numbers = [f for f in fields if f.endswith(_NUMBER_SUFFIXES)]
    return dates, numbers


def _subject(tables, table, row):
    """Whose value is bad, by activity code (``activity A100: ``, ``link A100 → A110: ``), or nothing."""
    if row.get("task_code"):
        return f"activity {row['task_code']}: "
    if table == "TASKPRED" and "TASK" in tables:
        codes = {r.get("task_id"): r.get("task_code") for r in tables["TASK"].rows}
        predecessor, successor = codes.get(row.get("pred_task_id")), codes.get(row.get("task_id"))
        if predecessor and successor:
            return f"link {predecessor} → {successor}: "
    return ""


def parse_xer(text, validate=True):
    """Parse XER text (already decoded) into an :class:`XerFile`.

    Parameters
    ----------
    text : str
    validate : bool
        Check date and numeric columns (``*_date``, ``*_hr_cnt``, ``*_qty``,
        ``*_pct``, ``*_cost``) while reading, so bad values are reported with
        their line number.
    """
    if text.endswith("\r"):
        text = text[:-1]
    # A line's \r before its \n goes; the line numbers stay those of the file.
    lines = text.replace("\r\n", "\n").split("\n")
    parser = _Parser(validate)
    # Runs of well-formed rows (a million lines in a large file) are read a run at a time, with the
    # values checked once per distinct value; every other line goes through _Parser.line, one by one.
    others = [k for k, line in enumerate(lines) if not line.startswith("%R\t")]
    others.append(len(lines))
    after = 0
    for k in others:
        if k > after:
            parser.rows(lines, after, k)
        if k == len(lines) or parser.line(lines[k], k + 1):
            break
        after = k + 1
    return parser.finish()


class _Parser:
    """The state of :func:`parse_xer`: the header, the tables, the table being read."""

    __slots__ = ("validate", "header", "tables", "current", "dates", "numbers")

    def __init__(self, validate):
        self.validate = validate
        self.header = None
        self.tables = {}
        self.current = None
        self.dates = self.numbers = ()

    def line(self, line, lineno):
        """Any one line (its \\r already gone); True at ``%E``, the end of the data."""
        if not line.strip():
            return False
        if self.header is None:
            if not line.startswith("ERMHDR"):
                raise XerError("not an XER file: first line must start with ERMHDR", None, lineno)
            self.header = line.split("\t")[1:]
            return False
        tag, _, rest = line.partition("\t")
        current = self.current
        if tag == "%R":
            self._row(rest.split("\t"), lineno)
        elif tag == "%T":
            name = rest.strip()
            if not name:
                raise XerError("%T without a table name", None, lineno)
            if name in self.tables:
                # Several %T blocks of one table are concatenated, as P6 does on import.
                self.current = self.tables[name]
            else:
                self.current = self.tables[name] = XerTable(name, [])
            # Values are checked by their own table's columns (a block without its %F line included).
            self.dates, self.numbers = _checked_columns(self.current.fields)
        elif tag == "%F":
            if current is None:
                raise XerError("%F field list before any %T table", None, lineno)
            fields = rest.split("\t")
            if current.fields and current.fields != fields:
                raise XerError("table repeated with different fields", current.name, lineno)
            current.fields = fields
            current.field_line = lineno
            missing = [f for f in REQUIRED_FIELDS.get(current.name, ()) if f not in fields]
            if missing:
                raise XerError(f"missing required column(s) {', '.join(missing)}", current.name, lineno)
            self.dates, self.numbers = _checked_columns(fields)
        elif tag == "%E":
            return True
        else:
            raise XerError(f"unexpected line starting with {tag[:20]!r}", current.name if current is not None else None, lineno)
        return False

    def _row(self, values, lineno):
        """One ``%R`` line's values, checked and stored."""
        current = self.current
        if self.header is None:
            raise XerError("not an XER file: first line must start with ERMHDR", None, lineno)
        if current is None or not current.fields:
            raise XerError("%R row before any %F field list", current.name if current is not None else None, lineno)
        nf = len(current.fields)
        if len(values) > nf:
            # P6 sometimes ends rows with one empty trailing value; only
            # real extra data is an error.
            while len(values) > nf and values[-1] == "":
                values.pop()
            if len(values) > nf:
                raise XerError(
                    f"row has more values ({len(values)}) than %F lists fields ({nf})", current.name, lineno
                )
        elif len(values) < nf:
            values.extend([""] * (nf - len(values)))
        if self.validate:
            self._check(current, [values], lineno)
        current.add(values, lineno)

    def rows(self, lines, first, end):
        """The lines ``first`` to ``end`` (exclusive), every one a ``%R`` row: the whole run at once when
        each has as many values as the table has fields, else one by one."""
        current = self.current
        if self.header is None or current is None or not current.fields:
            self._row(lines[first][3:].split("\t"), first + 1)  # raises
        fields = current.fields
        values = [line[3:].split("\t") for line in lines[first:end]]
        if set(map(len, values)) != {len(fields)}:
            for k, row_values in enumerate(values, first + 1):
                self._row(row_values, k)
            return
        if self.validate:
            self._check(current, values, first + 1)
        current.extend(values, range(first + 1, end + 1))

    def _check(self, table, values, first_line):
        """Every date and number of the rows ``values`` (lists in the table's field order, read from line
        ``first_line`` on) parses; else the error of the first bad value in file order (row by row, dates
        before numbers). A column is parsed without a Python call per value; only a column that fails is
        searched for its first bad row."""
        if not self.dates and not self.numbers:
            return
        checks = [(column, _dt.datetime.fromisoformat, "date") for column in self.dates]
        checks += [(column, float, "number") for column in self.numbers]
        # One pass over the rows picks every checked value (a pass per column would walk 50,000
        # scattered lists twenty times), then the values are read column by column.
        index = {name: i for i, name in enumerate(table.fields)}
        at = [index[column] for column, _parse, _what in checks]
        columns = list(zip(*map(itemgetter(*at), values))) if len(at) > 1 else [[v[at[0]] for v in values]]
        first_bad = None
        for order, ((column, parse, what), cells, i) in enumerate(zip(checks, columns, at)):
            try:
                # Each distinct value once: a column repeats a few hundred dates and durations.
                deque(map(parse, filter(None, set(cells))), maxlen=0)
            except ValueError:
                k = next(k for k, row in enumerate(values) if row[i] and not _parses(parse, row[i]))
                if first_bad is None or (k, order) < first_bad[:2]:
                    first_bad = (k, order, column, what)
        if first_bad is not None:
            k, _order, column, what = first_bad
            row = dict(zip(table.fields, values[k]))
            raise XerError(f"{_subject(self.tables, table.name, row)}bad {what} {row[column]!r} in column {column}",
                           table.name, first_line + k)

    def finish(self):
        if self.header is None:
            raise XerError("empty file: no ERMHDR header")
        for t in self.tables.values():
            if not t.fields:
                raise XerError("table has no %F field list", t.name, None)
        return XerFile(header=self.header, tables=self.tables)


def _parses(parse, value):
    try:
        parse(value)
    except ValueError:
        return False
    return True


def read_xer(source, validate=True):
    """Read an XER file from a path, ``bytes`` or ``str``.

    Returns
    -------
    XerFile

    Raises
    ------
    XerError
        The content is not a well-formed XER file.
    OSError
        The path cannot be read.
    """
    if isinstance(source, (bytes, bytearray)):
        text, encoding = decode_xer(bytes(source))
    elif isinstance(source, str) and source.startswith("ERMHDR"):
        text, encoding = source, "str"
    else:
        with open(os.fspath(source), "rb") as fh:
            text, encoding = decode_xer(fh.read())
    xer = parse_xer(text, validate=validate)
    xer.encoding = encoding
    return xer


# The tables whose rows wbs.interchange.limits counts, and what those rows are.
_XER_TABLES = {b"TASK": "activities", b"TASKPRED": "relationships", b"PROJWBS": "wbs_elements",
               b"CALENDAR": "calendars", b"TASKRSRC": "assignments"}
# The PROJECT columns the limits need: which project is chosen, which are its baselines.
_PROJECT_COLUMNS = ("proj_id", "proj_short_name", "project_flag", "orig_proj_id", "sum_base_proj_id")
_CHUNK = 4 << 20  # bytes of a table whose rows' proj_id are read at once


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
    return xer_row_counts(data).totals


@dataclass
class XerRowCounts:
    """What :func:`xer_row_counts` finds in a file's bytes.

    ``projects``: the PROJECT rows (baselines included), only the columns of ``_PROJECT_COLUMNS``, decoded;
    ``totals``: rows of each limited table in the whole file; ``by_project``: rows of the activity,
    relationship, WBS and assignment (TASKRSRC) tables by their ``proj_id`` (not read when the file has at most one PROJECT row: then
    every row is that project's). Every row of the file: :func:`xer_rows`.
    """

    projects: list[dict[str, str]]
    totals: dict[str, int]
    by_project: dict[str, Counter]

    def of(self, kind: str, proj_ids: list[str]) -> int:
        """Rows of ``kind`` (``activities``, ``relationships``, ``wbs_elements``, ``assignments``) of the projects
        ``proj_ids``."""
        if len(self.projects) <= 1:
            return self.totals[kind] if proj_ids else 0
        counted = self.by_project.get(kind, Counter())
        return sum(counted[proj_id] for proj_id in proj_ids)


def xer_row_counts(data: bytes) -> XerRowCounts:
    """The rows the import limits weigh, counted on the raw bytes (nothing is parsed or copied whole).

    Totals are one ``bytes.count`` per table. When the file holds several PROJECT rows (other projects,
    baselines), each activity, relationship and WBS row's ``proj_id`` is read by one regular expression
    over its table: about half a second for 1,000,000 rows (BENCHMARKS.md, "Import limits").
    """
    totals = dict.fromkeys(_XER_TABLES.values(), 0)
    tables = list(_xer_tables(data))
    blocks = [(name, start, end) for (start, name), (end, _next) in zip(tables, tables[1:] + [(len(data), b"")])]
    projects = [row for name, start, end in blocks if name == b"PROJECT" for row in _project_rows(data, start, end)]
    by_project: dict[str, Counter] = {}
    for name, start, end in blocks:
        kind = _XER_TABLES.get(name)
        if kind is None:
            continue
        totals[kind] += data.count(b"\n%R", start, end)
        if len(projects) > 1 and kind != "calendars":
            found = Counter()
            for proj_ids in _proj_ids(data, start, end):
                found.update(proj_ids)
            counted = by_project.setdefault(kind, Counter())
            for proj_id, rows in found.items():
                counted[proj_id.decode("latin-1")] += rows
    return XerRowCounts(projects=projects, totals=totals, by_project=by_project)


def xer_rows(data: bytes) -> int:
    """Every ``%R`` row of an XER file, of any table."""
    return data.count(b"\n%R")


def _fields(data: bytes, start: int, end: int) -> list[bytes]:
    """The field names of the ``%F`` line of the table ``data[start:end]`` (none when it has none)."""
    at = data.find(b"\n%F\t", start, end)
    if at == -1:
        return []
    line_end = data.find(b"\n", at + 1, end)
    return data[at + 4:line_end if line_end != -1 else end].rstrip(b"\r").split(b"\t")


def _project_rows(data: bytes, start: int, end: int) -> list[dict[str, str]]:
    """The PROJECT table's rows, as the reader decodes them (it is a few rows: read line by line)."""
    names = [name.decode("ascii", "replace") for name in _fields(data, start, end)]
    wanted = [(name, names.index(name)) for name in _PROJECT_COLUMNS if name in names]
    rows = []
    for line in data[start:end].split(b"\n"):
        if line.startswith(b"%R\t"):
            values = decode_xer(line[3:].rstrip(b"\r"))[0].split("\t")
            rows.append({name: values[k] if k < len(values) else "" for name, k in wanted})
    return rows


def _proj_ids(data: bytes, start: int, end: int) -> Iterator[list[bytes]]:
    """The ``proj_id`` of each ``%R`` row in the table ``data[start:end]``, a few MB of the file at a time
    (``findall`` is faster than a match object per row; the chunks bound the lists it makes)."""
    fields = _fields(data, start, end)
    if b"proj_id" not in fields:
        return
    column = fields.index(b"proj_id")
    row = re.compile(rb"\n%R\t(?:[^\t\r\n]*\t){" + str(column).encode() + rb"}([^\t\r\n]*)")
    at = start
    while at < end:
        stop = data.find(b"\n", min(at + _CHUNK, end), end)  # the end of a line: rows are not cut
        stop = end if stop == -1 else stop
        yield row.findall(data, at, stop)
        at = stop

