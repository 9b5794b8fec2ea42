"""Merging contacts and accounts keeps the person's choices and tags: an opt-out through either record stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from accounts import services as crm
from accounts.marketing import consent, tags
from accounts.marketing.models import ContactConsent
from crmpm.database import utcnow
from tests import factories as f


def _consents(session, contact_id):
    return {row.channel: row for row in session.scalars(select(ContactConsent)
                                                        .where(ContactConsent.contact_id == contact_id))}


def test_a_merged_contacts_opt_out_and_consents_follow_the_kept_contact(session):
    admin = f.admin(session)
    account = f.account(session, actor=admin, region=f.node(session, actor=admin))
    keep, merge = f.contact(session, actor=admin, account=account), f.contact(session, actor=admin, account=account)
    consent.record_consent(session, contact_id=keep.id, channel="email", source="form", actor=admin)
    consent.record_opt_out(session, contact_id=merge.id, channel="email", source="unsubscribe link", actor=None)
    consent.record_consent(session, contact_id=merge.id, channel="sms", source="call", actor=admin)
    opted_out_at = _consents(session, merge.id)["email"].opted_out_at

    crm.merge_contacts(session, actor=admin, keep=keep, merge=merge)

    kept = _consents(session, keep.id)
    assert kept["email"].opted_out_at == opted_out_at and kept["email"].opt_out_source == "unsubscribe link"
    assert kept["sms"].consented_at is not None and kept["sms"].opted_out_at is None
    assert _consents(session, merge.id) == {}
    assert keep.id in set(session.scalars(consent.opted_out_ids("email")))
    assert keep.id not in set(session.scalars(consent.consented_ids("email")))
    assert keep.id in set(session.scalars(consent.consented_ids("sms")))


def test_an_earlier_opt_out_of_the_kept_contact_is_not_replaced(session):
    admin = f.admin(session)
    account = f.account(session, actor=admin, region=f.node(session, actor=admin))
    keep, merge = f.contact(session, actor=admin, account=account), f.contact(session, actor=admin, account=account)
    consent.record_opt_out(session, contact_id=keep.id, channel="email", source="by phone", actor=admin)
    earlier = utcnow() - timedelta(days=30)
    _consents(session, keep.id)["email"].opted_out_at = earlier
    consent.record_opt_out(session, contact_id=merge.id, channel="email", source="unsubscribe link", actor=None)

    crm.merge_contacts(session, actor=admin, keep=keep, merge=merge)

    row = _consents(session, keep.id)["email"]
    assert (row.opted_out_at, row.opt_out_source) == (earlier, "by phone")


def test_tags_of_merged_contacts_and_accounts_are_kept_together(session):
    admin = f.admin(session)
    region = f.node(session, actor=admin)
    keep_account, merge_account = (f.account(session, actor=admin, region=region) for _ in range(2))
    keep, merge = f.contact(session, actor=admin, account=keep_account), f.contact(session, actor=admin,
                                                                                 account=merge_account)
    tags.set_tags(session, admin, keep, ["vip"])
    tags.set_tags(session, admin, merge, ["vip", "newsletter"])
    tags.set_tags(session, admin, keep_account, ["retail"])
    tags.set_tags(session, admin, merge_account, ["wholesale"])

    crm.merge_contacts(session, actor=admin, keep=keep, merge=merge)
    crm.merge_accounts(session, actor=admin, keep=keep_account, merge=merge_account)

    assert tags.tags_of(session, keep) == ["newsletter", "vip"]
    assert tags.tags_of(session, merge) == []
    assert tags.tags_of(session, keep_account) == ["retail", "wholesale"]
    assert tags.tags_of(session, merge_account) == []
