"""CSV import into the CRM: the typed records of ``accounts.csvio`` resolved and written through the services.

One call imports one file of one KIND (users, accounts, contacts, leads, deals,
interactions) as ``actor``::

    report = import_csv(session, actor=user, kind="deals", path="Potentials.csv", mapping="deals.json")
    report.created, report.updated, report.unchanged, report.errors

How it behaves:

* **Idempotent.** Rows are matched by external id (users by email); a second run
  of the same file counts every row as unchanged and writes nothing.
* **Nothing dropped.** Every data row is created, updated, unchanged, blank or
  listed in ``errors`` with its line, CSV column and reason: bad cells (from
  csvio), unknown references (owner, account, contact, lead, deal, branch), and
  anything a service refuses (rights, inactive owner, a lost deal without reason).
  A reference to a record the actor may not read is reported as unknown, in the
  same words as one that does not exist (status 404 instead of 422): a report
  never names a hidden record's id, code or name.
* **All or nothing** unless ``partial``: with any error the whole file is rolled
  back (the report still tells what would have happened to the good rows).
  ``dry_run`` does all the work, services and checks included, and rolls back.
  The rollback is a savepoint, so the caller's session stays usable; each row runs
  in its own savepoint too, so a refused row never leaves half of itself behind.
* **Rights are the services' own.** The actor needs edit rights where rows land
  (for new accounts, edit rights on the branch); importing users, creating a
  pipeline or adding stages needs an administrator. A file whose rows are all
  refused for lack of rights answers like the services do: 404 when the target is
  unreadable, 403 when it is read-only.

Decisions a mapping cannot express, per KIND:

* users: matched by email; created without a password, active unless the mapping
  says ``"active": false``. ``team`` names a team, created when missing, that the
  user joins. ``region`` names a branch EPS node (code or name); the user joins a
  team named after that node (``"<code> branch"``), created when missing. No
  grants are made: an administrator grants that team its rights on the branch
  once. ``manager`` has nowhere to be stored and is reported as ignored.
* accounts: ``region`` is required (a column or a default): the branch node by
  code or name, where the account's own node is created. ``parent`` and every
  other account reference resolve by external id, else by exact name (the oldest
  account of that name). A ``parent`` that is another row of the same file
  resolves whatever the order of the rows: parents are imported before their
  subsidiaries. Rows whose parents make a cycle within the file are refused,
  each naming the lines of the cycle; a row whose parent row was refused says so.
* deals: the pipeline named by the mapping (else the first active one) is created
  when missing, with the stages of the mapping's ``values`` table in its order (and
  any other the file uses), probabilities spread from 10 % to 90 %; stages the file
  uses that an existing pipeline lacks are added before its terminal ones, with the
  probability of its last open stage. ``won`` and ``lost`` are the pipeline's terminal stages whatever
  they are called. The account is the ``account`` column, else the ``contact``'s
  account, else through the ``lead``: the account it was qualified into, the
  account of the contact with the lead's email or phone, the oldest account named
  like the lead's company, or a new (prospect) account of that name on the lead's
  branch; with none of these the row is an error. A deal imported from a lead
  qualifies that lead (links account, contact and deal).
* interactions: the journal is append-only: an interaction already imported is
  left as it is. ``purpose`` is kept at the start of the summary.

Speed and audit: new deals, the bulk of a large import, are checked row by row with
``deals.check_new_deal`` (the rules of ``create_deal``) and written 1,000 at a time by
``deals.create_deals`` (COPY on PostgreSQL), with one audit entry per deal naming its
project instead of separate project and deal entries; if a batch breaks a database
rule, it is redone row by row through ``upsert_deal`` to name the row. A known deal
whose row holds nothing new is counted unchanged without a service call. Every other
row goes through the services (``upsert_account``, ``upsert_contact``, ``upsert_lead``,
``upsert_deal``, ``record_interaction_once``), which keep their own per-record audit:
those KINDs are thousands of rows, not hundreds of thousands. References (users,
accounts, contacts, leads, deals by external id, branch nodes) are fetched in a few
queries before the rows. An import that changed something adds one summary entry
(action ``import``, entity type ``imports``) with the file name and the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

import networkx as nx
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import CrmpmError, Forbidden, Invalid, NotFound, Phrase
from crmpm.users import services as users
from crmpm.users.models import Team, User
from eps.models import EpsNode, Project
from eps.permissions import Permission, access_to

from accounts import activities, deals, leads, pipelines, services
from accounts.csvio import (
    DEFAULT_TZ,
    CsvFormatError,
    CsvImportError,
    ImportMapping,
    MappingError,
    Phone,
    Record,
    RowError,
    import_file,
    load_mapping,
)
from accounts.models import Account, Contact, Deal, Interaction, Lead, LeadStatus, Pipeline, PipelineStage, StageKind
from accounts.permissions import readable_account_ids

__all__ = ["IMPORT_ORDER", "ImportReport", "import_csv", "file_error"]

# The order a whole CRM is imported in: each KIND refers only to those before it.
IMPORT_ORDER = ("users", "accounts", "contacts", "leads", "deals", "interactions")
# Fields a KIND can read but crmpm has no place for; reported, never silently lost.
NOT_STORED = {
    "users": {"external_id", "manager"},
    "accounts": {"founded"},
    "contacts": {"source"},
    "leads": set(),
    "deals": set(),
    "interactions": set(),
}
# Service error keys (API field names) back to import fields, to name the CSV column.
_SERVICE_FIELDS = {
    "owner_id": "owner", "user_id": "owner", "account_id": "account", "contact_id": "contact", "deal_id": "deal",
    "lead_id": "lead", "stage_id": "stage", "region_node_id": "region", "parent_id": "parent",
    "last_name": "name", "first_name": "name", "contact_name": "name", "company": "company",
    "annual_revenue": "revenue",
}
_ID_CHUNK = 900  # below SQLite's bound-parameter limit
DEAL_CHUNK = 1000  # new deals written per batch of statements
_PROBABILITY_LOW, _PROBABILITY_HIGH = 10, 90


@dataclass
class ImportReport:
    """What an import did (or, when refused or dry, would have done) to each row of the file."""

    kind: str
    dry_run: bool
    partial: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    blank: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # HTTP-like status of each row error, to answer 403/404 when rights refused every row.
    error_status: dict[int, int] = field(default_factory=dict)

    @property
    def error_lines(self) -> list[int]:
        """The distinct lines with errors, in file order."""
        return sorted({error.line for error in self.errors})

    @property
    def imported(self) -> int:
        """Rows that were (or would be) written or found unchanged."""
        return self.created + self.updated + self.unchanged

    @property
    def committed(self) -> bool:
        """Whether the changes stay: not a dry run, and no error unless partial."""
        return not self.dry_run and (self.partial or not self.errors)

    def refusal(self) -> CrmpmError | None:
        """The error an edge raises when the file was refused as a whole, else None."""
        if self.dry_run or self.partial or not self.errors:
            return None
        statuses = set(self.error_status.values())
        refusal = Phrase("{kind}: nothing imported: {bad} of {rows} rows have errors (first: {first}); "
                         "fix them, or import the good rows with partial",
                         kind=self.kind, bad=len(self.error_lines), rows=self.rows, first=str(self.errors[0]))
        errors = {"rows": [_error_dict(error) for error in self.errors], "summary": self.counts()}
        if statuses == {404}:
            return NotFound(refusal.template, errors=errors, **refusal.params)
        if statuses and statuses <= {403, 404}:
            return Forbidden(refusal.template, errors=errors, **refusal.params)
        return Invalid(refusal.template, errors=errors, **refusal.params)

    def counts(self) -> dict[str, Any]:
        """The figures of the report."""
        return {"kind": self.kind, "rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "blank": self.blank, "error_rows": len(self.error_lines),
                "dry_run": self.dry_run, "partial": self.partial, "committed": self.committed}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {**self.counts(), "errors": [_error_dict(error) for error in self.errors],
                "ignored_fields": self.ignored_fields, "notes": self.notes}

    def summary(self, *, limit: int = 50) -> str:
        """A plain-text report: figures, then the first ``limit`` errors."""
        if self.dry_run:
            state = "dry run, nothing written"
        elif self.committed:
            state = "imported" + (f", {len(self.error_lines)} rows skipped" if self.errors else "")
        else:
            state = "NOTHING IMPORTED (all or nothing; use --partial to import the good rows)"
        lines = [f"{self.kind}: {self.rows} rows: {self.created} created, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.error_lines)} with errors, {self.blank} blank ({state})"]
        if self.ignored_fields:
            lines.append(f"  not stored by crmpm: {', '.join(self.ignored_fields)}")
        lines += [f"  {note}" for note in self.notes]
        lines += [f"  {error}" for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        return "\n".join(lines)


def _error_dict(error: RowError) -> dict[str, Any]:
    return {"line": error.line, "column": error.column, "field": error.field,
            "value": None if error.value is None else str(error.value), "reason": error.reason}


def file_error(exc: CsvImportError) -> Invalid:
    """A file-level CSV or mapping problem as the domain error the edges report (422 / exit 2)."""
    key = "mapping" if isinstance(exc, MappingError) else "file" if isinstance(exc, CsvFormatError) else "import"
    return Invalid("{key}: {problem}", key=key, problem=str(exc), errors={key: [str(exc)]})


class _NoSavepoint:
    """Stands in for a savepoint around a row that writes nothing."""

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class _RowRefused(Exception):
    """A reference in the row cannot be resolved; becomes a RowError on ``field``."""

    def __init__(self, field_name: str | None, reason: str, *, status: int = 422) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.status = status


def _literal(values: list):
    """The values of a bulk lookup written into the SQL: PostgreSQL then plans each lookup for its own
    values, where a prepared statement's generic plan for 900 parameters scans the whole table."""
    return bindparam("values", values, expanding=True, literal_execute=True)


def _chunks(values: list, size: int = _ID_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _Importer:
    """The state of one import: the mapping, the resolved references, the counters."""

    def __init__(self, session: Session, *, actor: User, kind: str, mapping: ImportMapping,
                 report: ImportReport) -> None:
        self.session = session
        self.actor = actor
        self.kind = kind
        self.mapping = mapping
        self.report = report
        self.mapped = {name for _column, name in mapping.field_columns} | set(mapping.defaults)
        self.column_of = {name: column for column, name in mapping.field_columns}
        self._users: dict[str, list[User]] | None = None
        self._users_by_email: dict[str, User] = {}
        self._nodes: dict[str, EpsNode | None] = {}
        self._by_external: dict[type, dict[str, Any]] = {}
        self._accounts_by_name: dict[str, Account | None] = {}
        self._teams: dict[str, Team] = {}
        self._on_commit: list[Callable[[], None]] = []
        self._made_names: list[str] = []
        self._rights: dict[int, CrmpmError | None] = {}
        self._held: list = []
        self.pipeline: Pipeline | None = None
        self.stages: dict[str, PipelineStage] = {}
        self._parent_line: dict[int, int] = {}  # line of an account row -> line of its parent's row in the file
        self._readable: dict[tuple[type, int], bool] = {}

    # References, resolved in bulk before the rows and cached

    def _load_users(self) -> None:
        self._users = {}
        for user in self.session.scalars(select(User).order_by(User.id)):
            self._users_by_email[user.email] = user
            self._users.setdefault(" ".join(user.name.split()).casefold(), []).append(user)

    def user(self, ref: str | None, field_name: str = "owner") -> User | None:
        """The user named by email or (unique) name; _RowRefused when unknown or ambiguous."""
        if ref is None:
            return None
        if self._users is None:
            self._load_users()
        if "@" in ref:
            user = self._users_by_email.get(ref.lower())
            if user is None:
                raise _RowRefused(field_name, f"no user with email {ref}")
            return user
        found = self._users.get(ref.casefold(), [])
        if not found:
            raise _RowRefused(field_name, f"no user named {ref!r} (give an email or import the users first)")
        if len(found) > 1:
            raise _RowRefused(field_name, f"{len(found)} users are named {ref!r}; give an email")
        return found[0]

    def readable(self, row) -> bool:
        """Whether the actor may read ``row`` (an EPS node, project, account, contact, deal or lead); cached."""
        key = (type(row), row.id)
        if self.actor.is_admin:
            return True
        if key not in self._readable and isinstance(row, Account):
            self._read_accounts()
        if key not in self._readable:
            governing = {Account: lambda: row.eps_node, Contact: lambda: row.account.eps_node,
                         Deal: lambda: row.project, Lead: lambda: row.region_node}.get(type(row), lambda: row)()
            self._readable[key] = access_to(self.session, user=self.actor, obj=governing).can(Permission.read)
        return self._readable[key]

    def _read_accounts(self) -> None:
        """Which of the accounts found so far the actor may read, a chunk per query (a file names thousands)."""
        ids = sorted({account.id for account in self._by_external.get(Account, {}).values() if account is not None}
                     - {key[1] for key in self._readable if key[0] is Account})
        readable = readable_account_ids(self.session, user=self.actor)
        for chunk in _chunks(ids):
            query = select(Account.id).where(Account.id.in_(_literal(chunk)))
            seen = set(self.session.scalars(query.where(Account.id.in_(readable)) if readable is not None else query))
            self._readable.update({(Account, account_id): account_id in seen for account_id in chunk})

    def node(self, ref: str | None, field_name: str = "region") -> EpsNode:
        """The branch EPS node with this code, else this (unique) name."""
        if ref is None:
            raise _RowRefused(field_name, f"{field_name} is required: a branch EPS node code or name "
                                          "(a column or a mapping default)")
        if ref not in self._nodes:
            node = self.session.scalar(select(EpsNode).where(EpsNode.code == ref))
            if node is None:
                named = self.session.scalars(select(EpsNode).where(EpsNode.name == ref).limit(2)).all()
                node = named[0] if len(named) == 1 else None
            self._nodes[ref] = node
        node = self._nodes[ref]
        if node is None or not self.readable(node):
            raise _RowRefused(field_name, f"no EPS node with code or name {ref!r}", status=422 if node is None else 404)
        return node

    def preload(self, model, keys: Iterable[str | None]) -> None:
        """Fetch the rows of ``model`` with these external ids in a few queries."""
        cache = self._by_external.setdefault(model, {})
        wanted = sorted({key for key in keys if key is not None and key not in cache})
        for chunk in _chunks(wanted):
            for row in self.session.scalars(select(model).where(model.external_id.in_(_literal(chunk)))):
                cache[row.external_id] = row
        for key in wanted:
            cache.setdefault(key, None)

    def external(self, model, key: str):
        """The row of ``model`` with this external id, or None (cached)."""
        cache = self._by_external.setdefault(model, {})
        if key not in cache:
            self.preload(model, [key])
        return cache[key]

    def remember(self, model, key: str | None, row) -> None:
        """Add a row made by this import to the cache once its row savepoint is committed."""
        if key is not None:
            self._on_commit.append(lambda: self._by_external.setdefault(model, {}).__setitem__(key, row))

    def account(self, ref: str | None, field_name: str = "account") -> Account | None:
        """The account with this external id, else the oldest unmerged one with this exact name."""
        if ref is None:
            return None
        found = self.external(Account, ref)
        account = found if found is not None and self.readable(found) else self.account_named(ref)
        if account is None:
            raise _RowRefused(field_name, f"unknown account {ref!r} (no account you may read has this external id "
                                          "or name)", status=422 if found is None else 404)
        return account

    def account_named(self, name: str) -> Account | None:
        """The oldest unmerged account with exactly this name that the actor may read, or None (cached)."""
        if name not in self._accounts_by_name:
            query = (select(Account).where(Account.name == name, Account.merged_into_id.is_(None))
                     .order_by(Account.id).limit(1))
            readable = readable_account_ids(self.session, user=self.actor)
            if readable is not None:
                query = query.where(Account.id.in_(readable))
            self._accounts_by_name[name] = self.session.scalars(query).first()
        return self._accounts_by_name[name]

    def referenced(self, model, field_name: str, ref: str | None, label: str):
        if ref is None:
            return None
        row = self.external(model, ref)
        if row is None or not self.readable(row):
            raise _RowRefused(field_name, f"unknown {label} {ref!r} (no {label} you may read has this external id)",
                              status=422 if row is None else 404)
        return row

    def own(self, model, external_id: str, label: str):
        """The row this import row updates (by its external id), or None; refused when the actor may not read it."""
        row = self.external(model, external_id)
        if row is not None and not self.readable(row):
            raise _RowRefused("external_id", f"external id {external_id!r} belongs to a {label} you may not read",
                              status=404)
        return row

    def given(self, fields: dict, name: str) -> bool:
        """Whether the mapping maps or defaults ``name`` (so an empty cell means "clear it")."""
        return name in self.mapped and name in fields

    # One row

    def run_row(self, record: Record, handler: Callable[[Record], str | None], *, savepoint: bool = True) -> None:
        """Run ``handler`` on one row in its own savepoint (or none, for a handler that writes nothing)."""
        savepoint = self.session.begin_nested() if savepoint else _NoSavepoint()
        self._on_commit, self._made_names = [], []
        try:
            outcome = handler(record)
            self.session.flush()
        except _RowRefused as exc:
            self._undo(savepoint)
            self._fail(record, exc.field, exc.reason, exc.status)
            return
        except CrmpmError as exc:
            self._undo(savepoint)
            key = next(iter(exc.errors), None)
            field_name = _SERVICE_FIELDS.get(key, key) if key else None
            # A service's "not found" names the record by its id, which the file never gave: say only what it gave.
            reason = exc.message if exc.status != 404 else (
                f"{field_name} {record.fields.get(field_name)!r} is not one you may read" if field_name
                in record.fields else "a record this row refers to is not one you may read")
            self._fail(record, field_name, reason, exc.status)
            return
        except SQLAlchemyError as exc:
            self._undo(savepoint)
            detail = str(getattr(exc, "orig", exc)).splitlines()[0]
            self._fail(record, None, f"the database refused the row: {detail}", 422)
            return
        savepoint.commit()
        for callback in self._on_commit:
            callback()
        if outcome is not None:
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def _undo(self, savepoint) -> None:
        savepoint.rollback()
        for name in self._made_names:
            self._accounts_by_name.pop(name, None)

    def _fail(self, record: Record, field_name: str | None, reason: str, status: int) -> None:
        column = self.column_of.get(field_name) if field_name else None
        value = record.fields.get(field_name) if field_name else None
        if field_name == "external_id":
            value = record.external_id
        if isinstance(value, Phone):
            value = value.raw
        self.report.errors.append(RowError(line=record.line, column=column, field=field_name,
                                           value=None if value is None else str(value), reason=reason))
        self.report.error_status[record.line] = status

    def need_external_id(self, record: Record) -> str:
        if record.external_id is None:
            raise _RowRefused("external_id", "external id is required: re-importing relies on it")
        return record.external_id

    # Users

    def team(self, name: str) -> Team:
        if name not in self._teams:
            team = self.session.scalar(select(Team).where(Team.name == name))
            if team is None:
                team = users.create_team(self.session, actor=self.actor, name=name)
                self._on_commit.append(lambda: self.report.notes.append(f"team {name!r} created"))
            self._on_commit.append(lambda: self._teams.__setitem__(name, team))
            return team
        return self._teams[name]

    def import_user(self, record: Record) -> str:
        fields = record.fields
        email = fields["email"]
        if self._users is None:
            self._load_users()
        user = self._users_by_email.get(email)
        teams = []
        if fields.get("team"):
            teams.append(fields["team"])
        if fields.get("region"):
            node = self.node(fields["region"])
            teams.append(f"{node.code} branch")
        active = fields.get("active")
        if user is None:
            user = users.create(self.session, actor=self.actor, email=email, name=fields["name"], password=None)
            if active is False:
                users.update(self.session, actor=self.actor, user=user, is_active=False)
            made = user

            def _cache() -> None:
                self._users_by_email[email] = made
                self._users.setdefault(" ".join(made.name.split()).casefold(), []).append(made)

            self._on_commit.append(_cache)
            outcome = "created"
        else:
            changes = {}
            if fields["name"] != user.name:
                changes["name"] = fields["name"]
            if active is not None and active != user.is_active:
                changes["is_active"] = active
            if changes:
                users.update(self.session, actor=self.actor, user=user, **changes)
            outcome = "updated" if changes else "unchanged"
        for name in teams:
            team = self.team(name)
            if user not in team.members:
                users.update_team(self.session, actor=self.actor, team=team,
                                  member_ids=[member.id for member in team.members] + [user.id])
                if outcome == "unchanged":
                    outcome = "updated"
        return outcome

    # Accounts

    def import_account(self, record: Record) -> str:
        fields = record.fields
        external_id = self.need_external_id(record)
        values: dict[str, Any] = {"name": fields["name"]}
        for name, key in (("tax_id", "tax_id"), ("revenue", "annual_revenue"), ("employees", "employees")):
            if self.given(fields, name):
                values[key] = fields[name]
        if self.given(fields, "sector"):
            values["sector"] = fields["sector"] or ""
        if self.given(fields, "owner"):
            values["owner"] = self.user(fields["owner"])
        if self.given(fields, "parent"):
            parent_line = self._parent_line.get(record.line)
            if parent_line in self.report.error_status:
                raise _RowRefused("parent", f"parent {fields['parent']!r} is the account on line {parent_line}, "
                                            "which was not imported")
            values["parent"] = self.account(fields["parent"], "parent")
        existing = self.own(Account, external_id, "account")
        if existing is None:
            values["region"] = self.node(fields.get("region"))
            account, _created = services.upsert_account(self.session, actor=self.actor, external_id=external_id,
                                                        **values)
            self.remember(Account, external_id, account)
            self._on_commit.append(lambda: self._name_made(account))
            return "created"
        before = existing.audit_state()
        services.upsert_account(self.session, actor=self.actor, external_id=external_id, **values)
        return "unchanged" if existing.audit_state() == before else "updated"

    def order_accounts(self, records: list[Record]) -> list[Record]:
        """The rows in an order that imports each parent before its subsidiaries; rows in a cycle are refused.

        A parent is a row of the file when its reference is that row's external id, or, for a
        reference no existing account answers to, that row's name (the first such row). Rows keep
        their file order wherever the parents allow it.
        """
        if "parent" not in self.mapped:
            return records
        by_external = {record.external_id: record for record in records if record.external_id is not None}
        by_name: dict[str, Record] = {}
        for record in records:
            if record.fields.get("name"):
                by_name.setdefault(record.fields["name"], record)
        graph = nx.DiGraph()
        graph.add_nodes_from(record.line for record in records)
        for record in records:
            ref = record.fields.get("parent")
            if ref is None:
                continue
            parent = by_external.get(ref)
            if parent is None and self.external(Account, ref) is None and self.account_named(ref) is None:
                parent = by_name.get(ref)
            if parent is not None:
                graph.add_edge(parent.line, record.line)
                self._parent_line[record.line] = parent.line
        by_line = {record.line: record for record in records}
        for component in list(nx.strongly_connected_components(graph)):
            line = next(iter(component))
            if len(component) == 1 and not graph.has_edge(line, line):
                continue
            lines = sorted(component)
            reason = (f"line {line} names its own row as its parent" if len(lines) == 1 else
                      f"the parents of lines {', '.join(map(str, lines))} make a cycle within the file")
            for cyclic in lines:
                self._fail(by_line[cyclic], "parent", reason, 422)
            graph.remove_nodes_from(lines)
        return [by_line[line] for line in nx.lexicographical_topological_sort(graph)]

    def _name_made(self, account: Account) -> None:
        # A later row may name this account as its parent; an older account of the name still wins.
        if self._accounts_by_name.get(account.name) is None:
            self._accounts_by_name[account.name] = account

    # Contacts

    def import_contact(self, record: Record) -> str:
        fields = record.fields
        external_id = self.need_external_id(record)
        account = self.account(fields.get("account"))
        if account is None:
            raise _RowRefused("account", "account is required: a contact belongs to an account")
        values: dict[str, Any] = {}
        first, last = fields.get("first_name"), fields.get("last_name")
        if "first_name" not in self.mapped and "last_name" not in self.mapped:
            first, _space, last = (fields.get("name") or "").rpartition(" ")
        values["first_name"], values["last_name"] = first or "", last or ""
        for name in ("title", "email"):
            if self.given(fields, name):
                values[name] = fields[name] or ("" if name == "title" else None)
        if self.given(fields, "phone") or self.given(fields, "mobile"):
            phone = fields.get("phone") or fields.get("mobile")
            values["phone"] = phone.e164 if phone else None
        if self.given(fields, "owner"):
            values["owner"] = self.user(fields["owner"])
        existing = self.own(Contact, external_id, "contact")
        if existing is None:
            contact, _created = services.upsert_contact(self.session, actor=self.actor, external_id=external_id,
                                                        account=account, **values)
            if fields.get("created_at") is not None:
                contact.created_at = fields["created_at"]
            self.remember(Contact, external_id, contact)
            return "created"
        before = existing.audit_state()
        services.upsert_contact(self.session, actor=self.actor, external_id=external_id, account=account, **values)
        return "unchanged" if existing.audit_state() == before else "updated"

    # Leads

    def import_lead(self, record: Record) -> str:
        fields = record.fields
        external_id = self.need_external_id(record)
        values: dict[str, Any] = {}
        for name, key in (("company", "company"), ("name", "contact_name"), ("source", "source"),
                          ("channel", "channel"), ("product", "product")):
            if self.given(fields, name):
                values[key] = fields[name] or ""
        if self.given(fields, "email"):
            values["email"] = fields["email"]
        if self.given(fields, "phone"):
            values["phone"] = fields["phone"].e164 if fields["phone"] else None
        owner = self.user(fields["owner"]) if self.given(fields, "owner") else None
        status = None
        if fields.get("status") is not None:
            try:
                status = LeadStatus(fields["status"])
            except ValueError:
                raise _RowRefused("status", f"status {fields['status']!r} is not one of "
                                            f"{', '.join(s.value for s in LeadStatus)}") from None
        existing = self.own(Lead, external_id, "lead")
        if existing is None:
            region = self.node(fields.get("region"))
            lead, _created = leads.upsert_lead(self.session, actor=self.actor, external_id=external_id,
                                               region=region, created_at=fields.get("created_at"), **values)
            self.remember(Lead, external_id, lead)
            outcome, before = "created", None
        else:
            lead, before = existing, existing.audit_state()
            leads.upsert_lead(self.session, actor=self.actor, external_id=external_id, region=existing.region_node,
                              **values)
        state = lead.audit_state()
        if owner is not None and owner.id != lead.owner_id:
            if not owner.is_active:
                raise _RowRefused("owner", f"user {owner.email} is inactive")
            lead.owner_id = owner.id
        if status is not None and status is not lead.status and lead.deal_id is None:
            # A lead already qualified into an imported deal keeps that status.
            lead.status = status
        if lead.audit_state() != state:
            self.session.flush()
            audit.record(self.session, actor=self.actor, action="update", entity=lead, before=state,
                         after=lead.audit_state())
        if before is None:
            return outcome
        return "unchanged" if lead.audit_state() == before else "updated"

    # Deals

    def prepare_pipeline(self, records: list[Record]) -> None:
        """Find or create the pipeline and every stage the file uses (administrators create)."""
        name = self.mapping.pipeline
        if name is None:
            self.pipeline = self.session.scalars(pipelines.list_pipelines(self.session, active_only=True)).first()
            if self.pipeline is None:
                raise Invalid("there is no active pipeline; name one in the mapping (\"pipeline\")",
                              errors={"pipeline": ["none active"]})
        else:
            self.pipeline = pipelines.get_by_name(self.session, name=name)
        table = self.mapping.values.get("stage", {})
        listed = [value for value in table.values() if isinstance(value, str) and value != "*"]
        used = {record.fields.get("stage") for record in records if record.fields.get("stage")}
        if self.pipeline is not None:
            listed = [value for value in listed if value in used]  # an existing funnel only gets what is used
        wanted = list(dict.fromkeys(listed + sorted(used - set(listed))))
        opened = [value for value in wanted if value.casefold() not in ("won", "lost")]
        if self.pipeline is None:
            stages = [{"name": value, "probability": _spread(index, len(opened))} for index, value in
                      enumerate(opened)] or [{"name": "Open", "probability": 10}]
            stages += [{"name": "Won", "probability": 100, "kind": "won"},
                       {"name": "Lost", "probability": 0, "kind": "lost"}]
            self.pipeline = pipelines.create_pipeline(self.session, actor=self.actor, name=name, stages=stages)
            self.report.notes.append(f"pipeline {name!r} created with stages "
                                     f"{', '.join(stage['name'] for stage in stages)}")
        else:
            known = {stage.name.casefold() for stage in self.pipeline.stages}
            missing = [value for value in opened if value.casefold() not in known]
            if missing:
                current = [{"id": stage.id, "name": stage.name, "probability": stage.probability,
                            "kind": stage.kind.value} for stage in self.pipeline.stages]
                last_open = [stage for stage in current if stage["kind"] == "open"]
                probability = last_open[-1]["probability"] if last_open else 50
                pipelines.update_pipeline(self.session, actor=self.actor, pipeline=self.pipeline, stages=(
                    [stage for stage in current if stage["kind"] == "open"]
                    + [{"name": value, "probability": probability} for value in missing]
                    + [stage for stage in current if stage["kind"] != "open"]))
                self.report.notes.append(f"stages added to pipeline {self.pipeline.name!r}: {', '.join(missing)}")
        for stage in self.pipeline.stages:
            self.stages[stage.name.casefold()] = stage
            if stage.kind is not StageKind.open:
                self.stages[stage.kind.value] = stage

    def deal_account(self, fields: dict) -> tuple[Account, Contact | None, Lead | None]:
        contact = self.referenced(Contact, "contact", fields.get("contact"), "contact")
        lead = self.referenced(Lead, "lead", fields.get("lead"), "lead")
        account = self.account(fields.get("account"))
        if account is None and contact is not None:
            account = contact.account
        if account is None and lead is not None:
            if lead.account_id is not None:
                account = self.session.get(Account, lead.account_id)
                account = account if account is not None and self.readable(account) else None
            if account is None and (lead.email or lead.phone):
                contact = services.find_contact(self.session, email=lead.email, phone=lead.phone)
                contact = contact if contact is not None and self.readable(contact.account) else None
                account = contact.account if contact is not None else None
            if account is None and lead.company:
                account = self.account_named(lead.company)
            if account is None and lead.company:
                account = services.create_account(self.session, actor=self.actor, name=lead.company,
                                                   region=lead.region_node,
                                                   owner=self.user(fields.get("owner")))
                # Cached at once, so the company's next deal finds it; forgotten if this row fails.
                self._accounts_by_name[lead.company] = account
                self._made_names.append(lead.company)
        if account is None:
            which = "lead" if lead is not None else "account"
            raise _RowRefused(which, "no account: name one (account), or a contact or a lead it can be found "
                                     "through")
        if contact is not None and contact.account_id != account.id:
            contact = None
        return account, contact, lead

    def load_account_nodes(self) -> None:
        """Load the EPS nodes of the accounts found so far, so rights checks and new projects read no more."""
        ids = sorted({account.eps_node_id for account in self._by_external.get(Account, {}).values() if account})
        for chunk in _chunks(ids):
            # Held here: the session's identity map keeps objects only while someone refers to them.
            self._held += self.session.scalars(select(EpsNode).where(EpsNode.id.in_(_literal(chunk)))).all()

    def import_deals(self, records: list[Record], progress: Callable[[int], None] | None) -> None:
        """New deals are checked row by row, then written a chunk at a time; known ones go through upsert_deal."""
        for start in range(0, len(records), DEAL_CHUNK):
            pending: list[tuple[Record, deals.NewDeal, Lead | None]] = []
            for record in records[start:start + DEAL_CHUNK]:
                fields = record.fields
                if record.external_id is not None and self.external(Deal, record.external_id) is None:
                    # Only a placeholder account (found through a lead) is written before the chunk.
                    writes = fields.get("account") is None and fields.get("contact") is None
                    self.run_row(record, lambda row: self.plan_deal(row, pending), savepoint=writes)
                elif self.deal_unchanged(record):
                    self.report.unchanged += 1  # the common re-import: nothing to check or write
                else:
                    self.run_row(record, self.import_deal)
                if progress is not None:
                    progress(1)
            self.write_deals(pending)

    def load_deal_projects(self) -> None:
        """Load the projects of the deals found, so comparing a known deal's name reads nothing more."""
        ids = sorted({deal.project_id for deal in self._by_external.get(Deal, {}).values() if deal})
        for chunk in _chunks(ids):
            self._held += self.session.scalars(select(Project).where(Project.id.in_(_literal(chunk)))).all()

    def deal_unchanged(self, record: Record) -> bool:
        """Whether a known deal already holds every value of the row (then the row needs no service call)."""
        fields = record.fields
        deal = self.external(Deal, record.external_id) if record.external_id is not None else None
        stage = self.stages.get((fields.get("stage") or "").casefold())
        if deal is None or stage is None or deal.stage_id != stage.id or deal.project.name != fields["title"]:
            return False
        for name, key in (("amount", "amount"), ("currency", "currency"), ("expected_close", "expected_close")):
            if fields.get(name) is not None and getattr(deal, key) != fields[name]:
                return False
        if self.given(fields, "product") and deal.product != (fields["product"] or ""):
            return False
        if self.given(fields, "owner"):
            try:
                owner = self.user(fields["owner"])
            except _RowRefused:
                return False
            if (owner.id if owner else None) != deal.owner_id:
                return False
        if fields.get("lead") is not None:
            lead = self.external(Lead, fields["lead"])
            if lead is None or lead.deal_id is None:
                return False
        return True

    def plan_deal(self, record: Record, pending: list) -> None:
        fields = record.fields
        stage = self.stage(fields["stage"])
        owner = self.user(fields["owner"]) if self.given(fields, "owner") else None
        account, contact, lead = self.deal_account(fields)
        values: dict[str, Any] = {}
        for name, key in (("amount", "amount"), ("currency", "currency"), ("expected_close", "expected_close"),
                          ("engaged_at", "created_at"), ("closed_at", "closed_at")):
            if fields.get(name) is not None:
                values[key] = fields[name]
        if stage.kind is StageKind.lost and fields.get("lost_reason"):
            values["lost_reason"] = fields["lost_reason"]
        new = deals.check_new_deal(self.session, actor=self.actor, account=account, name=fields["title"],
                                   pipeline=self.pipeline, stage=stage, owner=owner, contact=contact,
                                   product=fields.get("product") or "", external_id=record.external_id,
                                   rights=self._rights, **values)
        pending.append((record, new, lead))

    def write_deals(self, pending: list) -> None:
        if not pending:
            return
        savepoint = self.session.begin_nested()
        try:
            ids = deals.create_deals(self.session, actor=self.actor, pipeline=self.pipeline,
                                     new=[new for _record, new, _lead in pending])
            qualified = []
            for (_record, new, lead), deal_id in zip(pending, ids):
                # A lead named by two rows qualifies into the first of them (its deal_id is set at once).
                if lead is not None and lead.deal_id is None:
                    before = lead.audit_state()
                    self.qualify(lead, deal_id=deal_id, account=new.account, contact=new.contact,
                                 at=new.created_at)
                    qualified.append((lead.id, before, lead.audit_state()))
            self.session.flush()
            audit.record_many(self.session, actor=self.actor, action="qualify", entity_type="leads",
                              entries=qualified)
            self.session.flush()
        except (CrmpmError, SQLAlchemyError):
            # Some row breaks a database rule the checks do not see: redo the chunk row by row to name it.
            savepoint.rollback()
            for record, _new, _lead in pending:
                self.run_row(record, self.import_deal)
            return
        savepoint.commit()
        self.report.created += len(pending)

    @staticmethod
    def qualify(lead: Lead, *, deal_id: int, account: Account, contact: Contact | None, at) -> None:
        lead.deal_id, lead.account_id = deal_id, account.id
        lead.contact_id = lead.contact_id or (contact.id if contact is not None else None)
        lead.status = LeadStatus.qualified
        lead.qualified_at = at

    def stage(self, value: str) -> PipelineStage:
        stage = self.stages.get(value.casefold())
        if stage is None:
            raise _RowRefused("stage", f"{value!r} is not a stage of pipeline {self.pipeline.name}")
        return stage

    def import_deal(self, record: Record) -> str:
        fields = record.fields
        external_id = self.need_external_id(record)
        stage = self.stage(fields["stage"])
        existing = self.own(Deal, external_id, "deal")
        account, contact, lead = (existing.account, None, None) if existing is not None and not (
            fields.get("lead")) else self.deal_account(fields)
        values: dict[str, Any] = {}
        for name, key in (("amount", "amount"), ("currency", "currency"), ("expected_close", "expected_close"),
                          ("engaged_at", "created_at"), ("closed_at", "closed_at")):
            if fields.get(name) is not None:
                values[key] = fields[name]
        if self.given(fields, "product"):
            values["product"] = fields["product"] or ""
        if stage.kind is StageKind.lost and fields.get("lost_reason"):
            values["lost_reason"] = fields["lost_reason"]
        if self.given(fields, "owner"):
            values["owner"] = self.user(fields["owner"])
        if existing is None:
            if contact is not None:
                values["contact"] = contact
            deal, _created = deals.upsert_deal(self.session, actor=self.actor, external_id=external_id,
                                               account=account, name=fields["title"], pipeline=self.pipeline,
                                               stage=stage, **values)
            self.remember(Deal, external_id, deal)
            outcome = "created"
        else:
            deal, before = existing, (existing.audit_state(), existing.project.name)
            owner = values.pop("owner", None)
            if owner is not None and owner.id != deal.owner_id:
                deals.update_deal(self.session, actor=self.actor, deal=deal, owner=owner)
            deals.upsert_deal(self.session, actor=self.actor, external_id=external_id, account=account,
                              name=fields["title"], pipeline=self.pipeline, stage=stage, **values)
            outcome = "unchanged" if (deal.audit_state(), deal.project.name) == before else "updated"
        if lead is not None and lead.deal_id is None:
            state = lead.audit_state()
            self.qualify(lead, deal_id=deal.id, account=account, contact=contact, at=deal.created_at)
            self.session.flush()
            audit.record(self.session, actor=self.actor, action="qualify", entity=lead, before=state,
                         after=lead.audit_state())
        return outcome

    # Interactions

    def import_interaction(self, record: Record) -> str:
        fields = record.fields
        external_id = self.need_external_id(record)
        if self.external(Interaction, external_id) is not None:
            return "unchanged"
        links = {
            "account": self.account(fields.get("account")),
            "contact": self.referenced(Contact, "contact", fields.get("contact"), "contact"),
            "deal": self.referenced(Deal, "deal", fields.get("deal"), "deal"),
            "lead": self.referenced(Lead, "lead", fields.get("lead"), "lead"),
        }
        if fields.get("direction") is None:
            raise _RowRefused("direction", "direction is required: inbound or outbound")
        summary = fields.get("summary") or ""
        if fields.get("purpose"):
            summary = f"Purpose: {fields['purpose']}" + (f"\n{summary}" if summary else "")
        interaction, _created = activities.record_interaction_once(
            self.session, actor=self.actor, external_id=external_id, kind=fields["kind"],
            direction=fields["direction"], occurred_at=fields["occurred_at"],
            user=self.user(fields.get("owner")), subject=fields.get("subject") or "", summary=summary,
            duration_minutes=fields.get("duration_minutes"), **links)
        self.remember(Interaction, external_id, interaction)
        return "created"


def _spread(index: int, count: int) -> int:
    """Default probabilities of new open stages: evenly from 10 % to 90 % in funnel order."""
    if count <= 1:
        return _PROBABILITY_LOW
    return round(_PROBABILITY_LOW + (_PROBABILITY_HIGH - _PROBABILITY_LOW) * index / (count - 1))


_PRELOAD = {
    "accounts": [(Account, "external_id"), (Account, "parent")],
    "contacts": [(Contact, "external_id"), (Account, "account")],
    "leads": [(Lead, "external_id")],
    "deals": [(Deal, "external_id"), (Account, "account"), (Contact, "contact"), (Lead, "lead")],
    "interactions": [(Interaction, "external_id"), (Account, "account"), (Contact, "contact"), (Deal, "deal"),
                     (Lead, "lead")],
}


def import_csv(session: Session, *, actor: User, kind: str, path: str | Path, mapping: str | Path | ImportMapping,
               dry_run: bool = False, partial: bool = False, tz: str | tzinfo = DEFAULT_TZ,
               progress: Callable[[int], None] | None = None,
               on_start: Callable[[int], None] | None = None) -> ImportReport:
    """Import one CSV file of ``kind`` as ``actor``; see the module docstring.

    File-level problems raise ``CsvImportError`` (convert with ``file_error``) or a
    domain error (an unknown KIND, users imported by a non-administrator, a
    pipeline a non-administrator would have to create). Row problems never raise:
    they are in the report, and ``report.committed`` tells whether the changes stay.
    ``on_start(rows)`` is called once the file is read; ``progress(1)`` after each row.
    """
    if kind not in IMPORT_ORDER:
        raise NotFound("unknown import kind {kind!r}; expected one of {kinds}",
                       kind=kind, kinds=", ".join(IMPORT_ORDER),
                       errors={"kind": [f"one of {', '.join(IMPORT_ORDER)}"]})
    if not isinstance(mapping, ImportMapping):
        mapping = load_mapping(path=mapping, kind=kind)
    if kind == "users" and not actor.is_admin:
        raise Forbidden("only administrators import users", errors={"kind": ["administrators only"]})
    if kind != "users" and "external_id" not in {name for _column, name in mapping.field_columns}:
        raise MappingError(f"{kind}: map a column to 'external_id': re-importing a file relies on it")
    batch = import_file(kind=kind, path=path, mapping=mapping, tz=tz)
    report = ImportReport(kind=kind, dry_run=dry_run, partial=partial, rows=batch.rows_seen,
                          blank=len(batch.blank_lines), errors=list(batch.errors))
    for error in batch.errors:
        report.error_status[error.line] = 422
    mapped = {name for _column, name in mapping.field_columns}
    report.ignored_fields = sorted(mapped & NOT_STORED[kind])
    if on_start is not None:
        on_start(len(batch.records))

    outer = session.begin_nested()
    try:
        importer = _Importer(session, actor=actor, kind=kind, mapping=mapping, report=report)
        for model, name in _PRELOAD.get(kind, []):
            if name == "external_id":
                importer.preload(model, (record.external_id for record in batch.records))
            else:
                importer.preload(model, (record.fields.get(name) for record in batch.records))
        if kind == "deals":
            importer.prepare_pipeline(batch.records)
            importer.load_account_nodes()
            importer.load_deal_projects()
            importer.import_deals(batch.records, progress)
        else:
            handler = getattr(importer, f"import_{kind.removesuffix('s')}")
            records = importer.order_accounts(batch.records) if kind == "accounts" else batch.records
            for _refused in range(len(batch.records) - len(records)):  # rows in a cycle, refused before the rest
                if progress is not None:
                    progress(1)
            for record in records:
                importer.run_row(record, handler)
                if progress is not None:
                    progress(1)
        report.errors.sort(key=lambda error: error.line)
        if report.committed and (report.created or report.updated):
            session.flush()
            audit.record(session, actor=actor, action="import", entity=_ImportEntity(kind),
                         after={"file": Path(path).name, **report.counts()})
            session.flush()
            outer.commit()
        else:
            outer.rollback()
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    return report


class _ImportEntity:
    """The audit trail's handle on an import: type ``imports``, id 0 (an import is no row of its own)."""

    __tablename__ = "imports"
    id = 0

    def __init__(self, kind: str) -> None:
        self.kind = kind
