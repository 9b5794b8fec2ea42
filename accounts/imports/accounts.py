"""Importing accounts: by external id, each new one on its branch, parents before their subsidiaries.

``region`` is required for a new account (a column or a default): the branch
node by code or name, where the account's own node is created. ``parent`` and
every other account reference resolve by external id, else by exact name (the
oldest account of that name). A ``parent`` that is another row of the same file
resolves whatever the order of the rows: parents are imported before their
subsidiaries. Rows whose parents make a cycle within the file are refused, each
naming the lines of the cycle; a row whose parent row was refused says so.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from accounts import services
from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.report import RowRefused
from accounts.models import Account

PRELOAD = [(Account, "external_id"), (Account, "parent")]
NOT_STORED = {"founded"}


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the account rows, each parent before its subsidiaries; rows in a cycle are refused first."""
    ordered, parent_line = order_accounts(job, records)
    for _refused in range(len(records) - len(ordered)):
        if progress is not None:
            progress(1)
    job.run_rows(ordered, lambda record: import_account(job, record, parent_line), progress)


def import_account(job: ImportJob, record: Record, parent_line: dict[int, int]) -> str:
    """Create or update one account; ``parent_line`` maps a row's line to its parent row's line."""
    fields = record.fields
    external_id = job.need_external_id(record)
    values: dict[str, Any] = {"name": fields["name"]}
    for name, key in (("tax_id", "tax_id"), ("revenue", "annual_revenue"), ("employees", "employees")):
        if job.given(fields, name):
            values[key] = fields[name]
    if job.given(fields, "sector"):
        values["sector"] = fields["sector"] or ""
    if job.given(fields, "owner"):
        values["owner"] = job.refs.user(fields["owner"])
    if job.given(fields, "parent"):
        line = parent_line.get(record.line)
        if line in job.report.error_status:
            raise RowRefused("parent", f"parent {fields['parent']!r} is the account on line {line}, "
                                       "which was not imported")
        values["parent"] = job.refs.account(fields["parent"], "parent")
    existing = job.refs.own(Account, external_id, "account")
    if existing is None:
        values["region"] = job.refs.node(fields.get("region"))
        account, _created = services.upsert_account(job.session, actor=job.actor, external_id=external_id,
                                                    **values)
        job.remember(Account, external_id, account)
        # A later row may name this account as its parent.
        job.after_commit(lambda: job.refs.name_account(account))
        return "created"
    before = existing.audit_state()
    services.upsert_account(job.session, actor=job.actor, external_id=external_id, **values)
    return "unchanged" if existing.audit_state() == before else "updated"


def order_accounts(job: ImportJob, records: list[Record]) -> tuple[list[Record], dict[int, int]]:
    """The rows in an order that imports each parent before its subsidiaries, and each row's parent row's line.

    A parent is a row of the file when its reference is that row's external id, or, for a
    reference no existing account answers to, that row's name (the first such row). Rows keep
    their file order wherever the parents allow it. Rows in a cycle are reported and left out.
    """
    if "parent" not in job.mapped:
        return records, {}
    graph, parent_line = _parent_graph(job, records)
    by_line = {record.line: record for record in records}
    for component in list(nx.strongly_connected_components(graph)):
        line = next(iter(component))
        if len(component) == 1 and not graph.has_edge(line, line):
            continue
        lines = sorted(component)
        reason = (f"line {line} names its own row as its parent" if len(lines) == 1 else
                  f"the parents of lines {', '.join(map(str, lines))} make a cycle within the file")
        for cyclic in lines:
            job.fail(by_line[cyclic], "parent", reason, 422)
        graph.remove_nodes_from(lines)
    return [by_line[line] for line in nx.lexicographical_topological_sort(graph)], parent_line


def _parent_graph(job: ImportJob, records: list[Record]) -> tuple[nx.DiGraph, dict[int, int]]:
    """Lines of the file, with an edge from each parent row to its subsidiaries' rows."""
    by_external = {record.external_id: record for record in records if record.external_id is not None}
    by_name: dict[str, Record] = {}
    for record in records:
        if record.fields.get("name"):
            by_name.setdefault(record.fields["name"], record)
    graph = nx.DiGraph()
    graph.add_nodes_from(record.line for record in records)
    parent_line: dict[int, int] = {}
    for record in records:
        ref = record.fields.get("parent")
        if ref is None:
            continue
        parent = by_external.get(ref)
        if parent is None and job.refs.external(Account, ref) is None and job.refs.account_named(ref) is None:
            parent = by_name.get(ref)
        if parent is not None:
            graph.add_edge(parent.line, record.line)
            parent_line[record.line] = parent.line
    return graph, parent_line
