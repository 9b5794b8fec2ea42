"""Laying out EPS branches from a CSV file, all or nothing.

The file has a header row naming the columns ``code`` and ``name`` (required), ``parent`` (the parent's
code; empty for a root) and ``protected`` (yes/no, true/false, 1/0, y/n; empty is no), in any order.
A parent may be a node already in the database or one defined anywhere in the file, before or after its
children. Every row is checked, and every fault reported with its line number, before anything is
written; the nodes are then written parents first through :mod:`eps.services` (its rights, code and
name rules, audit), in the caller's one transaction.

Re-importing is idempotent by code: a node whose code exists already is left as it is when the file
agrees with it, and otherwise renamed, (un)protected or moved to the file's parent, so importing the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.errors import CrmpmError, Invalid
from crmpm.users.models import User
from eps import services
from eps.models import EpsNode

__all__ = ["NodeRow", "LayoutSummary", "read_nodes_csv", "lay_out"]

COLUMNS = ("code", "name", "parent", "protected")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class NodeRow:
    """One node of the file: its line number, code, name, parent code (None: a root) and protection."""

    line: int
    code: str
    name: str
    parent: str | None
    protected: bool


@dataclass(frozen=True)
class LayoutSummary:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _refuse(problems: list[tuple[int, str]]) -> None:
    if problems:
        shown = problems[:20]
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise Invalid("the EPS file has {count} error(s): {details}{more}", count=len(problems),
                      details="; ".join(f"line {line}: {why}" for line, why in shown), more=more,
                      errors={f"line {line}": [why] for line, why in problems})


def read_nodes_csv(data: bytes) -> list[NodeRow]:
    """The rows of an EPS CSV file (UTF-8, a BOM allowed), each checked on its own; Invalid listing every
    fault by line otherwise. Parents are checked by :func:`lay_out`, which knows the database."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the EPS file is not UTF-8 text (byte {position})", position=exc.start + 1,
                      errors={"file": ["not UTF-8"]}) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
    except csv.Error as exc:
        raise Invalid("the EPS file: line 1: {problem}", problem=str(exc), errors={"line 1": [str(exc)]}) from None
    missing = [column for column in ("code", "name") if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise Invalid("the EPS file's first line must name the columns code, name, parent, protected "
                      "(code and name required); it has: {header}", header=", ".join(header) or "nothing",
                      errors={"line 1": [f"missing {', '.join(missing)}" if missing else
                                         f"unknown {', '.join(unknown)}" if unknown else "a column twice"]})
    rows: list[NodeRow] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append((line, f"more than {MAX_ROWS} rows"))
                break
            if len(values) != len(header):
                problems.append((line, f"{len(values)} values for {len(header)} columns"))
                continue
            record = {column: value.strip() for column, value in zip(header, values)}
            code, name = record["code"], record["name"]
            try:
                services.check_code_and_name(code, name)
            except Invalid as exc:
                problems.append((line, "; ".join(f"{field} {', '.join(why)}" for field, why in exc.errors.items())))
                continue
            flag = record.get("protected", "").lower()
            if flag not in YES | NO:
                problems.append((line, f"protected must be yes or no, not {record['protected']!r}"))
                continue
            if code in first_line:
                problems.append((line, f"code {code} is already on line {first_line[code]}"))
                continue
            first_line[code] = line
            rows.append(NodeRow(line=line, code=code, name=name, parent=record.get("parent") or None,
                                protected=flag in YES))
    except csv.Error as exc:
        problems.append((reader.line_num, str(exc)))
    _refuse(problems)
    return rows


def lay_out(session: Session, *, actor: User, rows: list[NodeRow]) -> LayoutSummary:
    """Create or bring up to date the nodes of ``rows`` (parents first), or write nothing and raise.

    Faults found before writing (unknown parents, loops) are reported together by line; a refusal by
    the services while writing (rights, say) names its line, and the caller's transaction rolls back.
    """
    codes = {row.code for row in rows} | {row.parent for row in rows if row.parent}
    existing = {node.code: node for node in session.scalars(select(EpsNode).where(EpsNode.code.in_(codes)))} \
        if codes else {}
    in_file = {row.code: row for row in rows}
    problems = [(row.line, f"parent {row.parent} is neither in the file nor an existing EPS node")
                for row in rows if row.parent and row.parent not in in_file and row.parent not in existing]
    graph = nx.DiGraph()
    graph.add_nodes_from(in_file)
    graph.add_edges_from((row.parent, row.code) for row in rows if row.parent in in_file)
    for cycle in nx.simple_cycles(graph):
        lines = sorted(in_file[code].line for code in cycle)
        problems.append((lines[0], "parents form a loop: " + " → ".join(cycle + cycle[:1])
                         + f" (lines {', '.join(map(str, lines))})"))
        break
    _refuse(sorted(problems))

    created, updated, unchanged = [], [], []
    for code in nx.topological_sort(graph):
        row = in_file[code]
        try:
            parent = existing.get(row.parent) if row.parent else None
            node = existing.get(code)
            if node is None:
                existing[code] = services.create_node(session, actor=actor, code=code, name=row.name, parent=parent,
                                                      protected=row.protected)
                created.append(code)
                continue
            changed = False
            if (node.parent_id or None) != (parent.id if parent else None):
                node = services.move_node(session, actor=actor, node=node, new_parent=parent)
                changed = True
            if node.name != row.name or node.protected != row.protected:
                node = services.update_node(session, actor=actor, node=node, name=row.name, protected=row.protected)
                changed = True
            existing[code] = node
            (updated if changed else unchanged).append(code)
        except CrmpmError as exc:
            raise type(exc)("line {line}: {problem}", line=row.line, problem=exc.message,
                            errors={f"line {row.line}": [exc.message]}) from None
    return LayoutSummary(created=created, updated=updated, unchanged=unchanged)
