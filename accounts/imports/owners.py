"""Owners named in a file, matched to crmpm's users; the table of those not matched; owners created when asked.

Exports name a record's owner as their CRM showed them: "Иван Петров", "Петров", an e-mail,
or (Bitrix24's REST fields) a user id. Each owner of a file is matched, in this order:

1. the **owners table**: the mapping's ``"owners"`` section, overridden by a table passed with
   the import (``--owners FILE``, the API's ``owners``): name in the file -> a user's e-mail
   (or a user's name);
2. an **e-mail** is the user with that address;
3. the **full name**, ignoring case, spacing and ё/е, in either order ("Петров Иван" is
   "Иван Петров"), also with a patronymic the user's name lacks ("Петров Иван Сергеевич");
4. a **single word** (a surname or a first name) that only one user's name has.

A name several users could be is not guessed: the row names the candidates' count and asks
for the table. ``prepare`` runs before the rows: it lists every owner the file names that no
user matches (how many rows, and the likeliest user as a suggestion), which the dry run
prints as a table to fill in and pass back. With ``create`` (administrators only: it creates
users) those owners are created as users without a password who cannot log in, on the
file's branch (the team ``"<code> branch"`` of the branch named by the first row that names
them, or of its account's branch), and made inactive when the file's rows are done;
owners who are inactive already (people who left; owners an earlier file created) keep their
imported records the same way. Imported history keeps its owners; new work is never given
to an inactive user (the services refuse it).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import select

from crmpm import codes
from crmpm.errors import Forbidden
from crmpm.users import services as users
from crmpm.users.models import User

from accounts.csvio import ImportMapping, MappingError, Record, check_owners
from accounts.csvio.mapping import read_utf8
from accounts.imports.report import RowRefused

__all__ = ["AmbiguousOwner", "OwnerMatcher", "OwnersPlan", "check_may_create", "name_key", "parse_owners_text",
           "prepare", "read_owners_file", "with_owners"]

class AmbiguousOwner(RowRefused):
    """Several users could be the owner a file names: never guessed, and never created."""


# Where owners named without an e-mail get their (undeliverable) address; ".local" is accepted by
# crmpm.emails and reaches nobody, until an administrator sets the real one.
PLACEHOLDER_DOMAIN = "imported.local"


def name_key(name: str) -> str:
    """A name as owners are compared: words joined by one space, case and ё/е ignored."""
    return " ".join(name.replace("ё", "е").replace("Ё", "Е").split()).casefold()


class OwnerMatcher:
    """Users found by e-mail, full name (any order, a patronymic extra) or a word only one of them has."""

    def __init__(self, table: Mapping[str, str] = MappingProxyType({})) -> None:
        self.table = {name_key(name): user for name, user in table.items()}
        self._by_email: dict[str, User] = {}
        self._by_name: dict[str, list[User]] = {}
        self._by_word: dict[str, list[User]] = {}
        self._words: dict[int, frozenset[str]] = {}

    def add(self, user: User, email: str | None = None) -> None:
        """Make ``user`` findable (every user at the start, and those an import creates)."""
        self._by_email[(email or user.email).lower()] = user
        key = name_key(user.name)
        if user not in self._by_name.get(key, []):
            self._by_name.setdefault(key, []).append(user)
            words = frozenset(key.split())
            self._words[id(user)] = words
            for word in words:
                self._by_word.setdefault(word, []).append(user)

    def with_email(self, email: str) -> User | None:
        """The user with exactly this address, or None."""
        return self._by_email.get(email.lower())

    def find(self, ref: str, field_name: str = "owner") -> User:
        """The user ``ref`` names; RowRefused saying why when none or several could be meant."""
        target = self.table.get(name_key(ref))
        if target is not None:
            found = self._match(target)
            if len(found) == 1:
                return found[0]
            if found:
                raise AmbiguousOwner(field_name, f"the owners table gives {target!r} for {ref!r}, which "
                                                 f"{len(found)} users could be; give an e-mail")
            raise RowRefused(field_name, f"the owners table gives {target!r} for {ref!r}, which is no user's "
                                         "e-mail or name")
        found = self._match(ref)
        if len(found) == 1:
            return found[0]
        if not found and "@" in ref:
            raise RowRefused(field_name, f"no user with email {ref}")
        if not found:
            raise RowRefused(field_name, f"no user named {ref!r} (give an email or import the users first)")
        raise AmbiguousOwner(field_name, f"{len(found)} users could be {ref!r}; give an email in the owners table")

    def _match(self, ref: str) -> list[User]:
        if "@" in ref:
            user = self.with_email(ref.strip())
            return [user] if user is not None else []
        key = name_key(ref)
        if not key:
            return []
        exact = self._by_name.get(key, [])
        if exact:
            return exact
        words = frozenset(key.split())
        if len(words) == 1:
            return list(dict.fromkeys(self._by_word.get(key, [])))
        # The same words in another order, or with a patronymic one of the two lacks.
        candidates = {id(user): user for word in words for user in self._by_word.get(word, [])}
        same = [user for user in candidates.values() if self._words[id(user)] == words]
        if same:
            return same
        return [user for user in candidates.values()
                if len(own := self._words[id(user)]) >= 2 and (own <= words or words <= own)]

    def suggestion(self, ref: str) -> str | None:
        """The e-mail of the user whose name is closest to ``ref``, if one is close; for the table to fill in."""
        names = list(self._by_name)
        close = difflib.get_close_matches(name_key(ref), names, n=1, cutoff=0.6)
        if close and len(self._by_name[close[0]]) == 1:
            return self._by_name[close[0]][0].email
        return None


# The table, read and written


def parse_owners_text(text: str, *, source: str = "owners") -> dict[str, str]:
    """An owners table from its text: JSON (``{"name": "email"}`` or a mapping's ``{"owners": {...}}``) or
    CSV with the columns ``name`` and ``email`` (the table a dry run prints). Empty entries are dropped."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return {}
    if stripped[0] == "{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise MappingError(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        if isinstance(data, dict) and set(data) == {"owners"}:
            data = data["owners"]
        return check_owners(data, source=source)
    try:
        dialect = csv.Sniffer().sniff(stripped.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(stripped), dialect))
    header = [cell.strip().casefold() for cell in rows[0]]
    if "name" not in header or "email" not in header:
        raise MappingError(f"{source}: a CSV owners table needs the columns name and email (as the dry run "
                           "prints it)")
    name_at, email_at = header.index("name"), header.index("email")
    table = {}
    for row in rows[1:]:
        cells = row + [""] * (len(header) - len(row))
        if cells[name_at].strip():
            table[cells[name_at]] = cells[email_at]
    return check_owners(table, source=source)


def read_owners_file(path: str | Path) -> dict[str, str]:
    """``parse_owners_text`` of a UTF-8 file."""
    path = Path(path)
    return parse_owners_text(read_utf8(path, what="owners table"), source=path.name)


def with_owners(mapping: ImportMapping, table: Mapping[str, str] | None) -> ImportMapping:
    """``mapping`` with ``table``'s entries over its own ``"owners"``."""
    if not table:
        return mapping
    return replace(mapping, owners=MappingProxyType({**mapping.owners, **table}))


# Before the rows


def check_may_create(actor: User) -> None:
    """Forbidden unless ``actor`` may create users, which creating a file's owners does."""
    if not actor.is_admin:
        raise Forbidden("only administrators create users, so only they may create the owners a file names "
                        "(create_owners)", errors={"create_owners": ["administrators only"]})


@dataclass
class OwnersPlan:
    """The owners of one file: those matched to no user, those created, and those lent activity for the rows."""

    unmatched: list[dict] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    _created_users: list[User] = field(default_factory=list)
    _lent: list[User] = field(default_factory=list)

    def finish(self, session, *, actor: User) -> None:
        """After the rows: the owners created, and those lent activity, are inactive again."""
        for user in self._lent:
            user.is_active = False
        for user in self._created_users:
            users.update(session, actor=actor, user=user, is_active=False)
        session.flush()


def prepare(job, records: list[Record], *, create: bool) -> OwnersPlan:
    """Match every owner the file names; list the unmatched, or (``create``) create them."""
    plan = OwnersPlan()
    counts = Counter(record.fields["owner"] for record in records if record.fields.get("owner"))
    if not counts:
        return plan
    first_row = {}
    for record in records:
        first_row.setdefault(record.fields.get("owner"), record)
    for ref, rows in counts.items():
        try:
            user = job.refs.user(ref)
        except RowRefused as exc:
            if create and not isinstance(exc, AmbiguousOwner):
                made = _create_owner(job, ref, first_row[ref])
                plan._created_users.append(made["user"])
                plan.created.append({"name": made["user"].name, "email": made["user"].email, "rows": rows,
                                     "branch": made["branch"]})
                continue
            plan.unmatched.append({"name": ref, "rows": rows, "reason": exc.reason,
                                   "suggested": job.refs.owners.suggestion(ref)})
            continue
        if create and not user.is_active:
            user.is_active = True  # for the rows only: made inactive again by finish(), in the same transaction
            plan._lent.append(user)
    job.session.flush()
    return plan


def _create_owner(job, ref: str, record: Record) -> dict:
    target = job.refs.owners.table.get(name_key(ref))
    email = target if target and "@" in target else ref if "@" in ref else _placeholder(job, ref)
    name = ref if "@" not in ref else ref.split("@")[0]
    user = users.create(job.session, actor=job.actor, email=email, name=name, password=None)
    job.refs.add_user(user)
    branch = _branch(job, record)
    if branch is not None:
        from accounts.imports.users import team_named  # the users import's own rule for branch teams

        team = team_named(job, {}, f"{branch.code} branch")
        users.update_team(job.session, actor=job.actor, team=team,
                          member_ids=[member.id for member in team.members] + [user.id])
    return {"user": user, "branch": branch.code if branch is not None else None}


def _branch(job, record: Record):
    """The branch of the row that first names an owner: its ``region``, else its account's branch."""
    fields = record.fields
    try:
        if fields.get("region"):
            return job.refs.node(fields["region"])
        if fields.get("account"):
            node = job.refs.account(fields["account"]).eps_node
            return node.parent if node is not None and node.parent is not None else node
    except RowRefused:
        return None
    return None


def _placeholder(job, name: str) -> str:
    base = codes.base_code(name, fallback="OWNER").lower().replace("-", ".")
    taken = set(job.session.scalars(select(User.email).where(User.email.like(f"{base}%@{PLACEHOLDER_DOMAIN}"))))
    email, number = f"{base}@{PLACEHOLDER_DOMAIN}", 1
    while email in taken:
        number += 1
        email = f"{base}.{number}@{PLACEHOLDER_DOMAIN}"
    return email
