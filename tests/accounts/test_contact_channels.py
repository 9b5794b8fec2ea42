"""A contact's phones and e-mails (``contact_channels``): normalized, in order, the first of each type kept as
``Contact.email`` / ``phone``; duplicates found by any of them; a merge moves history, tasks, deal links and
channels, or nothing at all; the person's timeline; who a task can be given to."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from accounts import activities, services
from accounts.models import ChannelType, Contact, ContactChannel, Deal, Interaction, Task
from crmpm.errors import Forbidden, Invalid
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture


def _channels(contact) -> list[tuple[str, str, str]]:
    return [(c.type.value, c.kind.value, c.value) for c in contact.channels]


def test_channels_are_normalized_ordered_and_the_first_are_primary(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    contact = services.create_contact(session, actor=admin, account=account, last_name="Volkov", channels=[
        {"type": "email", "kind": "work", "value": " Volkov@Firm.Example "},
        ("phone", "mobile", "8 (916) 555-44-33"),
        {"type": "phone", "kind": "home", "value": "+7 495 123 45 67"},
        {"type": "phone", "kind": "other", "value": "+7 (916) 555 44 33"},  # the mobile again: dropped
        {"type": "email", "kind": "home", "value": ""},  # an empty row: dropped
    ])
    session.commit()
    session.expire_all()
    contact = session.get(Contact, contact.id)
    assert _channels(contact) == [("email", "work", "volkov@firm.example"), ("phone", "mobile", "+79165554433"),
                                  ("phone", "home", "+74951234567")]
    assert (contact.email, contact.phone) == ("volkov@firm.example", "+79165554433")


def test_email_and_phone_given_alone_become_work_channels(session, crm):
    contact = factories.contact(session, actor=crm["admin"], account=crm["A"]["account"], email="A@B.example",
                                phone="8 916 000-00-01")
    assert _channels(contact) == [("email", "work", "a@b.example"), ("phone", "work", "+79160000001")]


def test_update_replaces_channels_and_a_primary_change_keeps_the_others(session, crm):
    admin = crm["admin"]
    contact = factories.contact(session, actor=admin, account=crm["A"]["account"], phone="+79160000001")
    services.update_contact(session, actor=admin, contact=contact, channels=[
        ("phone", "work", "+79160000001"), ("phone", "mobile", "+79160000002"), ("email", "work", "x@y.example")])
    assert contact.phone == "+79160000001" and contact.email == "x@y.example"
    # The API changes the primary phone only: it takes the first one's place and kind, the second stays.
    services.update_contact(session, actor=admin, contact=contact, phone="8 916 000-00-09")
    assert [(c.kind.value, c.value) for c in contact.channels_of(ChannelType.phone)] == [
        ("work", "+79160000009"), ("mobile", "+79160000002")]
    assert contact.phone == "+79160000009"
    services.update_contact(session, actor=admin, contact=contact, email=None)
    assert contact.email is None and contact.channels_of(ChannelType.email) == []


@pytest.mark.parametrize("channel, field, name", [
    (("phone", "work", "12"), "channels-1-value", "phone 1"),
    (("email", "work", "no at sign"), "channels-1-value", "e-mail 2"),
    (("fax", "work", "123"), "channels-1-type", None),
    (("phone", "pager", "+79160000001"), "channels-1-kind", None),
])
def test_a_bad_channel_is_refused_by_its_place_and_nothing_is_kept(session, crm, channel, field, name):
    admin, account = crm["admin"], crm["A"]["account"]
    before = session.scalar(select(func.count()).select_from(Contact))
    with pytest.raises(Invalid) as refused:
        services.create_contact(session, actor=admin, account=account, last_name="Bad",
                                channels=[("email", "work", "ok@x.example"), channel])
    assert field in refused.value.errors
    if name:
        assert name in refused.value.message
    assert session.scalar(select(func.count()).select_from(Contact)) == before


def test_duplicates_are_found_by_any_phone_or_email(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    one = services.create_contact(session, actor=admin, account=account, last_name="One", channels=[
        ("phone", "work", "+74951112233"), ("phone", "mobile", "+79161112233"), ("email", "home", "one@home.example")])
    two = services.create_contact(session, actor=admin, account=account, last_name="Two",
                                  channels=[("phone", "mobile", "8 916 111-22-33")])  # one's second phone
    three = services.create_contact(session, actor=admin, account=account, last_name="Three",
                                    channels=[("email", "work", "x@x.example"), ("email", "home", "One@Home.example")])
    services.create_contact(session, actor=admin, account=account, last_name="Other", phone="+74959999999")
    groups = {(g["key"], g["value"]): sorted(c.id for c in g["records"])
              for g in services.find_duplicate_contacts(session, user=admin)}
    assert groups == {("phone", "+79161112233"): sorted([one.id, two.id]),
                      ("email", "one@home.example"): sorted([one.id, three.id])}
    assert {c.id for c in services.duplicates_of(session, user=admin, contact=one)} == {two.id, three.id}
    assert services.find_contact(session, phone="+79161112233").id == one.id
    assert services.find_contact(session, email="one@home.example").id == one.id


def test_duplicates_of_leave_out_what_the_user_may_not_read(session, crm):
    admin = crm["admin"]
    seller = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=seller)
    mine = factories.contact(session, actor=admin, account=crm["A"]["account"], phone="+79162223344")
    factories.contact(session, actor=admin, account=crm["B"]["account"], phone="+79162223344")
    assert services.duplicates_of(session, user=seller, contact=mine) == []
    assert len(services.duplicates_of(session, user=admin, contact=mine)) == 1


def test_merge_moves_interactions_tasks_deals_and_channels(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    keep = services.create_contact(session, actor=admin, account=account, last_name="Keep",
                                   channels=[("phone", "work", "+74951112233")])
    merge = services.create_contact(session, actor=admin, account=account, last_name="Merge", title="CTO",
                                    channels=[("phone", "mobile", "+79161112233"), ("phone", "work", "+74951112233"),
                                              ("email", "work", "m@x.example")])
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], contact=merge)
    touch = factories.interaction(session, actor=admin, account=account, contact=merge,
                                  occurred_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    task = activities.create_task(session, actor=admin, title="t", account=account, contact=merge,
                                  due_at=datetime(2027, 1, 1, tzinfo=timezone.utc))
    services.merge_contacts(session, actor=admin, keep=keep, merge=merge)
    session.commit()
    session.expire_all()
    keep = session.get(Contact, keep.id)
    assert session.get(Deal, deal.id).contact_id == keep.id
    assert session.get(Interaction, touch.id).contact_id == keep.id
    assert session.get(Task, task.id).contact_id == keep.id
    assert _channels(keep) == [("email", "work", "m@x.example"), ("phone", "work", "+74951112233"),
                               ("phone", "mobile", "+79161112233")]
    assert keep.phone == "+74951112233" and keep.email == "m@x.example" and keep.title == "CTO"
    assert session.get(Contact, merge.id).merged_into_id == keep.id


def test_a_refused_merge_changes_nothing(session, crm):
    admin = crm["admin"]
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=viewer)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["B"]["branch"], user=viewer)
    keep, merge = crm["A"]["contact"], crm["B"]["contact"]
    touch = factories.interaction(session, actor=admin, account=crm["B"]["account"], contact=merge,
                                  occurred_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    session.commit()
    channels_before = session.scalar(select(func.count()).select_from(ContactChannel))
    with pytest.raises(Forbidden):
        services.merge_contacts(session, actor=viewer, keep=keep, merge=merge)
    session.rollback()
    assert session.get(Interaction, touch.id).contact_id == merge.id
    assert session.get(Contact, merge.id).merged_into_id is None
    assert session.scalar(select(func.count()).select_from(ContactChannel)) == channels_before


def test_timeline_of_a_contact_holds_only_their_rows(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    person, other = crm["A"]["contact"], factories.contact(session, actor=admin, account=account)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], contact=person)
    factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], contact=other)
    mine = factories.interaction(session, actor=admin, account=account, contact=person,
                                 occurred_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    factories.interaction(session, actor=admin, account=account, contact=other,
                          occurred_at=datetime(2026, 2, 2, tzinfo=timezone.utc))
    task = activities.create_task(session, actor=admin, title="t", account=account, contact=person,
                                  due_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    activities.create_task(session, actor=admin, title="u", account=account, contact=other,
                           due_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    rows = session.execute(activities.timeline(session, account=account, user=admin, contact=person,
                                               types=activities.TIMELINE_TYPES)).all()
    assert {(row.type, row.id) for row in rows if row.type != "stage_change"} == {
        ("interaction", mine.id), ("task", task.id), ("deal", deal.id)}
    assert {row.deal_id for row in rows if row.type == "stage_change"} == {deal.id}


def test_tasks_can_be_given_to_those_who_may_read_the_account(session, crm):
    admin = crm["admin"]
    reader, stranger, gone = factories.user(session), factories.user(session), factories.user(session)
    team = factories.team(session, members=[reader])
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], team=team)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], user=gone)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["B"]["branch"], user=stranger)
    gone.is_active = False
    ids = {user.id for user in activities.assignable_users(session, account=crm["A"]["account"])}
    assert reader.id in ids and admin.id in ids
    assert stranger.id not in ids and gone.id not in ids


def test_open_tasks_of_a_contact(session, crm):
    admin, account, person = crm["admin"], crm["A"]["account"], crm["A"]["contact"]
    due = datetime.now(timezone.utc) + timedelta(days=1)
    open_one = activities.create_task(session, actor=admin, title="open", account=account, contact=person, due_at=due)
    done = activities.create_task(session, actor=admin, title="done", account=account, contact=person, due_at=due)
    activities.update_task(session, actor=admin, task=done, status="done")
    activities.create_task(session, actor=admin, title="account's", account=account, due_at=due)
    found = session.scalars(activities.list_tasks(session, user=admin, contact_id=person.id,
                                                  status=activities.TaskStatus.open)).all()
    assert [task.id for task in found] == [open_one.id]
