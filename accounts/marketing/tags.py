"""Tags on accounts and contacts: free words, normalized (stripped, lower-cased, at most 100 characters), at most
50 on one record; set with edit rights on the account (a contact's: its account's), audited."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from accounts.marketing.models import TAG_LENGTH, AccountTag, ContactTag
from accounts.models import Account, Contact
from accounts.permissions import authorize_on
from crmpm import audit
from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.permissions import Permission

MAX_TAGS = 50

__all__ = ["MAX_TAGS", "normalize_tag", "normalize_tags", "set_tags", "tags_of"]


def normalize_tag(tag: str) -> str:
    """A tag spelled one way: spaces collapsed and stripped, lower-cased; ValueError when empty or too long."""
    tag = " ".join(str(tag).split()).lower()
    if not tag:
        raise ValueError("an empty tag")
    if len(tag) > TAG_LENGTH:
        raise ValueError(f"a tag has at most {TAG_LENGTH} characters")
    return tag


def normalize_tags(tags, *, field: str = "tags") -> list[str]:
    """The distinct normalized tags, sorted; Invalid naming ``field`` for a bad one or too many."""
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not all(isinstance(tag, str) for tag in tags):
        raise Invalid("tags are a list of texts", errors={field: ["a list of texts"]})
    clean = set()
    for tag in tags:
        if not tag.strip():
            continue
        try:
            clean.add(normalize_tag(tag))
        except ValueError as error:
            raise Invalid("a tag is not valid", errors={field: [str(error)]}) from None
    if len(clean) > MAX_TAGS:
        raise Invalid("too many tags", errors={field: [f"at most {MAX_TAGS} tags"]})
    return sorted(clean)


def _table(target):
    if isinstance(target, Account):
        return AccountTag, AccountTag.account_id, target.eps_node, "account"
    return ContactTag, ContactTag.contact_id, target.account.eps_node, "contact"


def tags_of(session: Session, target: Account | Contact) -> list[str]:
    model, column, _node, _label = _table(target)
    return list(session.scalars(select(model.tag).where(column == target.id).order_by(model.tag)))


def set_tags(session: Session, actor: User, target: Account | Contact, tags) -> list[str]:
    """Replace the tags of an account or contact (edit rights on the account); the tags now."""
    model, column, node, label = _table(target)
    authorize_on(session, user=actor, obj=target, governed_by=node, label=label, permission=Permission.edit)
    clean = normalize_tags(tags)
    before = tags_of(session, target)
    if before == clean:
        return clean
    session.execute(delete(model).where(column == target.id))
    if clean:
        session.execute(insert(model), [{column.key: target.id, "tag": tag} for tag in clean])
    audit.record(session, actor=actor, action="update", entity=target, before={"tags": before}, after={"tags": clean})
    return clean


def merge_contact_tags(session: Session, *, keep_id: int, merge_id: int) -> None:
    """A contact merged into another: the kept one carries the tags of both."""
    have = set(session.scalars(select(ContactTag.tag).where(ContactTag.contact_id == keep_id)))
    moved = [tag for tag in session.scalars(select(ContactTag.tag).where(ContactTag.contact_id == merge_id))
             if tag not in have]
    if moved:
        session.execute(insert(ContactTag), [{"contact_id": keep_id, "tag": tag} for tag in moved])
    session.execute(delete(ContactTag).where(ContactTag.contact_id == merge_id))


def merge_account_tags(session: Session, *, keep_id: int, merge_id: int) -> None:
    """An account merged into another: the kept one carries the tags of both."""
    have = set(session.scalars(select(AccountTag.tag).where(AccountTag.account_id == keep_id)))
    moved = [tag for tag in session.scalars(select(AccountTag.tag).where(AccountTag.account_id == merge_id))
             if tag not in have]
    if moved:
        session.execute(insert(AccountTag), [{"account_id": keep_id, "tag": tag} for tag in moved])
    session.execute(delete(AccountTag).where(AccountTag.account_id == merge_id))
