"""Segments: saved filters over contacts and accounts, evaluated in SQL, and static lists.

(Skeleton: static segments and the empty filter work; the filters are being built.)
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accounts.marketing.models import Segment, SegmentMember
from accounts.models import Contact
from accounts.permissions import readable_account_ids
from crmpm.users.models import User


def contact_ids(session: Session, segment: Segment, *, user: User | None = None) -> Select:
    """A select of the ids of the (unmerged) contacts in ``segment`` now, limited to what ``user`` may read.

    For an accounts segment, the contacts of its accounts. ``user`` None: every member (jobs acting for no one).
    """
    if segment.kind == "static":
        query = select(Contact.id).where(Contact.merged_into_id.is_(None))
        if segment.subject == "accounts":
            query = query.where(Contact.account_id.in_(
                select(SegmentMember.account_id).where(SegmentMember.segment_id == segment.id)))
        else:
            query = query.where(Contact.id.in_(
                select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment.id)))
    else:
        query = select(Contact.id).where(Contact.merged_into_id.is_(None))
    if user is not None:
        readable = readable_account_ids(session, user=user)
        if readable is not None:
            query = query.where(Contact.account_id.in_(readable))
    return query
