"""The records an import's rows refer to, fetched in bulk before the rows and cached for the whole file.

Rows name other records by external id (an account's ``parent``, a deal's
``account``, ``contact``, ``lead``), users by email or name (``owners``), branches by EPS code
or name, accounts also by exact name. A record the importing user may not read is
refused as unknown (status 404 instead of 422), in the words used for one that
does not exist: a report never names a hidden record. Rows of the same file are
found too: each kind ``remember``s what its rows make (see ``job.ImportJob``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crmpm.users.models import User
from eps.models import EpsNode
from eps.permissions import Permission, access_to

from accounts import services
from accounts.imports.owners import OwnerMatcher
from accounts.imports.report import RowRefused
from accounts.models import Account, Contact, Deal, Lead
from accounts.permissions import readable_account_ids

ID_CHUNK = 900  # below SQLite's bound-parameter limit


def literal(values: list):
    """The values of a bulk lookup written into the SQL: PostgreSQL then plans each lookup for its own
    values, where a prepared statement's generic plan for 900 parameters scans the whole table."""
    return bindparam("values", values, expanding=True, literal_execute=True)


def chunks(values: list, size: int = ID_CHUNK) -> Iterable[list]:
    """``values`` in slices small enough for one query."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


class References:
    """Users, branch nodes and records by external id or name, as ``actor`` may see them; cached."""

    def __init__(self, session: Session, *, actor: User, owners: Mapping[str, str] | None = None) -> None:
        self.session = session
        self.actor = actor
        self._owner_table = owners or {}
        self._owners: OwnerMatcher | None = None
        self._nodes: dict[str, EpsNode | None] = {}
        self._by_external: dict[type, dict[str, Any]] = {}
        self._accounts_by_name: dict[str, Account | None] = {}
        self._readable: dict[tuple[type, int], bool] = {}
        self._held: list = []

    # Users

    @property
    def owners(self):
        """The users, as owners named in the file are matched to them (``accounts.imports.owners``)."""
        if self._owners is None:
            self._owners = OwnerMatcher(self._owner_table)
            for user in self.session.scalars(select(User).order_by(User.id)):
                self._owners.add(user)
        return self._owners

    def add_user(self, user: User, email: str | None = None) -> None:
        """Make a user (one loaded, or one this import created) findable by email and name."""
        self.owners.add(user, email)

    def user_with_email(self, email: str) -> User | None:
        """The user with exactly this (normalized) email, or None."""
        return self.owners.with_email(email)

    def user(self, ref: str | None, field_name: str = "owner") -> User | None:
        """The user named by email or name (``OwnerMatcher.find``); RowRefused when unknown or ambiguous."""
        if ref is None:
            return None
        return self.owners.find(ref, field_name)

    # Rights

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
        for chunk in chunks(ids):
            query = select(Account.id).where(Account.id.in_(literal(chunk)))
            seen = set(self.session.scalars(query.where(Account.id.in_(readable)) if readable is not None else query))
            self._readable.update({(Account, account_id): account_id in seen for account_id in chunk})

    # Branches

    def node(self, ref: str | None, field_name: str = "region") -> EpsNode:
        """The branch EPS node with this code, else this (unique) name."""
        if ref is None:
            raise RowRefused(field_name, f"{field_name} is required: a branch EPS node code or name "
                                         "(a column or a mapping default)")
        if ref not in self._nodes:
            node = self.session.scalar(select(EpsNode).where(EpsNode.code == ref))
            if node is None:
                named = self.session.scalars(select(EpsNode).where(EpsNode.name == ref).limit(2)).all()
                node = named[0] if len(named) == 1 else None
            self._nodes[ref] = node
        node = self._nodes[ref]
        if node is None or not self.readable(node):
            raise RowRefused(field_name, f"no EPS node with code or name {ref!r}", status=422 if node is None else 404)
        return node

    # Records by external id

    def preload(self, model, keys: Iterable[str | None]) -> None:
        """Fetch the rows of ``model`` with these external ids in a few queries."""
        cache = self._by_external.setdefault(model, {})
        wanted = sorted({key for key in keys if key is not None and key not in cache})
        for chunk in chunks(wanted):
            for row in self.session.scalars(select(model).where(model.external_id.in_(literal(chunk)))):
                cache[row.external_id] = row
        for key in wanted:
            cache.setdefault(key, None)

    def external(self, model, key: str):
        """The row of ``model`` with this external id, or None (cached)."""
        cache = self._by_external.setdefault(model, {})
        if key not in cache:
            self.preload(model, [key])
        return cache[key]

    def found(self, model) -> list:
        """The rows of ``model`` found by external id so far."""
        return [row for row in self._by_external.get(model, {}).values() if row is not None]

    def add(self, model, key: str, row) -> None:
        """Make a row this import made findable by its external id."""
        self._by_external.setdefault(model, {})[key] = row

    def hold(self, model, ids: Iterable[int]) -> None:
        """Load the rows of ``model`` with these ids, kept so later reads of them cost nothing."""
        for chunk in chunks(sorted(set(ids))):
            # Held here: the session's identity map keeps objects only while someone refers to them.
            self._held += self.session.scalars(select(model).where(model.id.in_(literal(chunk)))).all()

    def referenced(self, model, field_name: str, ref: str | None, label: str):
        """The readable row of ``model`` with external id ``ref`` (None for None); RowRefused otherwise."""
        if ref is None:
            return None
        row = self.external(model, ref)
        if row is None or not self.readable(row):
            raise RowRefused(field_name, f"unknown {label} {ref!r} (no {label} you may read has this external id)",
                             status=422 if row is None else 404)
        return row

    def own(self, model, external_id: str, label: str):
        """The row an import row updates (by its external id), or None; refused when the actor may not read it."""
        row = self.external(model, external_id)
        if row is not None and not self.readable(row):
            raise RowRefused("external_id", f"external id {external_id!r} belongs to a {label} you may not read",
                             status=404)
        return row

    # Accounts, by external id or name

    def account(self, ref: str | None, field_name: str = "account") -> Account | None:
        """The account with this external id, else the oldest unmerged one with this exact name."""
        if ref is None:
            return None
        found = self.external(Account, ref)
        account = found if found is not None and self.readable(found) else self.account_named(ref)
        if account is None:
            raise RowRefused(field_name, f"unknown account {ref!r} (no account you may read has this external id "
                                         "or name)", status=422 if found is None else 404)
        return account

    def account_named(self, name: str) -> Account | None:
        """``services.find_account_named`` for the actor, cached."""
        if name not in self._accounts_by_name:
            self._accounts_by_name[name] = services.find_account_named(self.session, user=self.actor, name=name)
        return self._accounts_by_name[name]

    def name_account(self, account: Account, name: str | None = None) -> None:
        """Let later rows find an account made by this import by its name; an older account of the name wins."""
        name = account.name if name is None else name
        if self._accounts_by_name.get(name) is None:
            self._accounts_by_name[name] = account

    def forget_name(self, name: str) -> None:
        """Undo ``name_account`` (the row that made the account was rolled back)."""
        self._accounts_by_name.pop(name, None)
