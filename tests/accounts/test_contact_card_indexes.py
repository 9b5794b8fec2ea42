"""A contact's card reads its timeline and its possible duplicates through indexes (PostgreSQL): the deals naming
the contact, their stage moves, the contact's tasks and satisfaction answers by migration 0015's ``contact_id``
indexes, and the contacts sharing a phone, an e-mail or the tax id by look-ups of those values, never by reading
every deal, task, answer or contact."""

from __future__ import annotations

import re

from accounts import activities, services
from crmpm.database import utcnow
from tests.accounts.test_product_search import world  # noqa: F401 - fixture
from tests.plans import plans_of, postgresql_only

CONTACT_INDEXES = {"deals": "ix_deals_contact_id", "tasks": "ix_tasks_contact_id",
                   "survey_answers": "ix_survey_answers_contact_id"}


def _scanned_whole(plan: str) -> set[str]:
    """The tables the plan reads whole: a sequential scan, or an index scan without an index condition (all of a
    B-tree, which is what the planner does with sequential scans turned off when no index narrows the rows)."""
    whole = set()
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        scan = re.search(r"(Seq Scan|Index Scan|Index Only Scan)(?: Backward)?(?: using \w+)? on (\w+)", line)
        if scan is None:
            continue
        depth = len(line) - len(line.lstrip())
        details = []
        for detail in lines[number + 1:]:
            if len(detail) - len(detail.lstrip()) <= depth or "->" in detail:
                break
            details.append(detail)
        if scan.group(1) == "Seq Scan" or not any("Index Cond" in detail for detail in details):
            whole.add(scan.group(2))
    return whole


def test_every_part_of_the_timeline_is_read_by_its_contact_index(session, world):
    postgresql_only(session)
    a = world["A"]
    query = activities.timeline(session, account=a["account"], user=world["admin"], contact=a["contact"],
                                types=activities.TIMELINE_TYPES, until=utcnow())
    plans = plans_of(session, lambda: session.execute(query).all(), containing="UNION ALL")
    assert len(plans) == 1, plans
    assert set(CONTACT_INDEXES.values()) <= set(re.findall(r"\bix_\w+", plans[0])), plans[0]
    assert _scanned_whole(plans[0]) == set(), plans[0]


def test_duplicates_are_looked_up_by_their_values(session, world):
    postgresql_only(session)
    a = world["A"]
    plans = plans_of(session, lambda: services.duplicates_of(session, user=world["admin"], contact=a["contact"]),
                     containing="FROM contacts")
    assert plans and all("contacts" not in _scanned_whole(plan) for plan in plans), plans
    assert any("ix_contact_channels_type_value" in plan for plan in plans), plans
