"""Account pages: the list with its figures, the account page and its timeline, the quick entry of a touch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from accounts.models import AccountKind, Interaction
from eps import services as eps_services
from eps.models import Role
from tests import factories


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


def _entries(html: str) -> list[str]:
    return re.findall(r'data-entry="([a-z_]+-\d+)"', html)


@pytest.fixture
def crm(session, admin, world):
    """A holding in branch A with a subsidiary in branch B; deals, touches and tasks in both; one protected deal."""
    pipeline = factories.pipeline(session)
    owner = factories.user(session, name="Olga Owner")
    holding = factories.account(session, actor=admin, region=world["A"], name="Holding Alpha", tax_id="7708123450",
                                owner=owner, sector="Retail", segment="enterprise")
    subsidiary = factories.account(session, actor=admin, region=world["B"], name="Bravo Secret Sub",
                                   parent=holding)
    other = factories.account(session, actor=admin, region=world["A"], name="Charlie Prospect",
                              kind=AccountKind.prospect)
    contact = factories.contact(session, actor=admin, account=holding, first_name="Sergey", last_name="Orlov")
    stranger = factories.contact(session, actor=admin, account=other, first_name="Ivan", last_name="Stranger")
    deal = factories.deal(session, actor=admin, account=holding, pipeline=pipeline, amount="1000.00",
                          created_at=_at("2026-01-05"))
    hidden_deal = factories.deal(session, actor=admin, account=holding, pipeline=pipeline, amount="500.00",
                                 created_at=_at("2026-01-06"))
    eps_services.update_project(session, actor=admin, project=hidden_deal.project, protected=True,
                                name="Hidden Deal Project")
    sub_deal = factories.deal(session, actor=admin, account=subsidiary, pipeline=pipeline, amount="700.00")
    sub_deal.project.name = "Sub Deal Secret"
    factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-03-01"),
                          subject="First call", contact=contact, deal=deal)
    factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-04-01"), kind="meeting",
                          subject="Scope workshop", summary="Agreed on the pilot")
    factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-05-01"),
                          subject="Hidden deal talk", deal=hidden_deal)
    factories.interaction(session, actor=admin, account=subsidiary, occurred_at=_at("2026-05-02"),
                          subject="Subsidiary secret talk")
    session.commit()
    return {"pipeline": pipeline, "holding": holding, "sub": subsidiary, "other": other, "contact": contact,
            "stranger": stranger, "deal": deal, "hidden_deal": hidden_deal, "sub_deal": sub_deal, "owner": owner}


def _interactions(session) -> int:
    return session.scalar(select(func.count()).select_from(Interaction))


def test_list_shows_figures_and_searches_by_name_inn_and_code(pages, session, admin, crm):
    body = pages.log_in_as(admin).get("/crm/accounts").get_data(as_text=True)
    row = re.search(rf'<tr data-account="{crm["holding"].id}">(.*?)</tr>', body, re.S).group(1)
    # Two open deals an administrator sees (1000 + 500; the subsidiary's deal is its own), the last touch.
    assert "Olga Owner" in row and "7708123450" in row and ">2<" in row and "1,500.00" in row
    assert "May 1, 2026" in row
    assert "Bravo Secret Sub" in body and "Charlie Prospect" in body
    by_inn = pages.get("/crm/accounts?q=7708123450").get_data(as_text=True)
    assert "Holding Alpha" in by_inn and "Charlie Prospect" not in by_inn
    by_name = pages.get("/crm/accounts?q=charl").get_data(as_text=True)
    assert "Charlie Prospect" in by_name and "Holding Alpha" not in by_name
    code = crm["other"].eps_node.code
    assert "Charlie Prospect" in pages.get(f"/crm/accounts?q={code}").get_data(as_text=True)
    prospects = pages.get("/crm/accounts?kind=prospect").get_data(as_text=True)
    assert "Charlie Prospect" in prospects and "Holding Alpha" not in prospects


def test_list_counts_only_the_deals_the_user_may_read(pages, session, admin, crm, user_with):
    user = user_with(Role.viewer)  # on branch A only
    body = pages.log_in_as(user).get("/crm/accounts").get_data(as_text=True)
    row = re.search(rf'<tr data-account="{crm["holding"].id}">(.*?)</tr>', body, re.S).group(1)
    assert ">1<" in row and "1,000.00" in row and "1,500.00" not in row
    assert "Bravo Secret Sub" not in body


def test_list_is_paginated_and_sorted(pages, session, admin, world):
    for n in range(30):
        factories.account(session, actor=admin, region=world["A"], name=f"Firm {n:02d}")
    session.commit()
    pages.log_in_as(admin)
    first = pages.get("/crm/accounts?per_page=25").get_data(as_text=True)
    assert first.count('<tr data-account=') == 25 and "Firm 00" in first and "Firm 29" not in first
    second = pages.get("/crm/accounts?page=2").get_data(as_text=True)
    assert second.count('<tr data-account=') == 5 and "Firm 29" in second
    reverse = pages.get("/crm/accounts?dir=desc").get_data(as_text=True)
    assert reverse.index("Firm 29") < reverse.index("Firm 28")
    mine = pages.get("/crm/accounts?owner=me").get_data(as_text=True)
    assert 'data-account=' not in mine


def test_account_page_shows_the_timeline_newest_first(pages, session, admin, crm):
    holding = crm["holding"]
    body = pages.log_in_as(admin).get(f"/crm/accounts/{holding.id}").get_data(as_text=True)
    assert "Holding Alpha" in body and "Retail" in body and "Olga Owner" in body and "Sergey Orlov" in body
    titles = re.findall(r'<strong class="entry-title">([^<]+)</strong>', body)
    # Touches of the holding and its subsidiary (the administrator sees both), newest first.
    assert titles.index("Subsidiary secret talk") < titles.index("Hidden deal talk") < titles.index(
        "Scope workshop") < titles.index("First call")
    assert "Agreed on the pilot" in body and "with Sergey Orlov" in body
    entries = _entries(body)
    assert any(entry.startswith("deal-") for entry in entries)
    assert any(entry.startswith("stage_change-") for entry in entries)
    # The quick form for someone who may edit.
    assert 'action="/crm/interactions"' in body


def test_timeline_hides_the_deals_and_branches_the_user_may_not_see(pages, session, admin, crm, user_with):
    user = user_with(Role.editor)  # on branch A; B and the protected deal are out of reach
    body = pages.log_in_as(user).get(f"/crm/accounts/{crm['holding'].id}").get_data(as_text=True)
    assert "First call" in body and "Scope workshop" in body
    for secret in ("Hidden deal talk", "Hidden Deal Project", "Subsidiary secret talk", "Bravo Secret Sub",
                   "Sub Deal Secret"):
        assert secret not in body
    assert f"deal-{crm['hidden_deal'].id}" not in _entries(body)
    assert pages.get(f"/crm/accounts/{crm['sub'].id}").status_code == 404


def test_timeline_filters_by_kind_and_loads_more(pages, session, admin, crm):
    holding = crm["holding"]
    for n in range(25):
        factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-02-01") + timedelta(hours=n),
                              subject=f"Bulk touch {n:02d}")
    session.commit()
    pages.log_in_as(admin)
    only = pages.get(f"/crm/accounts/{holding.id}?type=interaction").get_data(as_text=True)
    assert only.count('data-entry="interaction-') == 20 and 'data-entry="deal-' not in only
    assert 'data-timeline-more' in only
    more = pages.get(f"/crm/accounts/{holding.id}/timeline?page=2&type=interaction").get_data(as_text=True)
    assert more.count('data-entry="interaction-') == 9  # 29 interactions: 20 + 9
    assert "Bulk touch 00" in more and "First call" not in more and "data-timeline-more" not in more
    deals = pages.get(f"/crm/accounts/{holding.id}?type=deal").get_data(as_text=True)
    assert 'data-entry="interaction-' not in deals and 'data-entry="deal-' in deals


def test_a_user_without_rights_gets_404_and_no_data(pages, session, crm, user_with):
    user = user_with(None)
    for path in (f"/crm/accounts/{crm['holding'].id}", f"/crm/accounts/{crm['holding'].id}/timeline"):
        response = pages.log_in_as(user).get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and "Holding Alpha" not in body and "First call" not in body
    listing = pages.get("/crm/accounts").get_data(as_text=True)
    assert "Holding Alpha" not in listing and "You cannot see any accounts yet." in listing


def test_quick_entry_records_an_interaction_and_goes_back(pages, session, crm, user_with):
    user = user_with(Role.editor)
    holding = crm["holding"]
    pages.log_in_as(user)
    page = f"/crm/accounts/{holding.id}"
    response = pages.post("/crm/interactions", {
        "account_id": holding.id, "kind": "call", "direction": "inbound", "contact_id": crm["contact"].id,
        "subject": "Asked for a quote", "summary": "Wants 20 licences", "occurred_at": "2026-11-20T14:30",
        "next": page})
    assert response.status_code == 303 and response.location == page
    created = session.scalars(select(Interaction).where(Interaction.subject == "Asked for a quote")).one()
    # Typed in the user's zone (Moscow, UTC+3).
    assert created.occurred_at == datetime(2026, 11, 20, 11, 30, tzinfo=timezone.utc)
    assert created.contact_id == crm["contact"].id and created.user_id == user.id
    body = pages.get(page).get_data(as_text=True)
    assert re.findall(r'<strong class="entry-title">([^<]+)</strong>', body)[0] == "Asked for a quote"


def test_quick_entry_with_a_deal(pages, session, admin, crm):
    response = pages.log_in_as(admin).post("/crm/interactions", {
        "account_id": crm["holding"].id, "deal_id": crm["deal"].id, "kind": "email", "direction": "outbound",
        "subject": "Sent the offer", "occurred_at": "2026-11-21T09:00"})
    assert response.status_code == 303 and response.location == f"/crm/accounts/{crm['holding'].id}"
    created = session.scalars(select(Interaction).where(Interaction.subject == "Sent the offer")).one()
    assert created.deal_id == crm["deal"].id


@pytest.mark.parametrize("change, message", [
    ({"subject": ""}, "Subject"),
    ({"kind": ""}, "Kind"),
    ({"kind": "telepathy"}, "Kind"),
    ({"occurred_at": "yesterday"}, "When"),
    ({"occurred_at": "2099-01-01T10:00"}, "future"),
    ("stranger", "not one of this account"),
    ({"contact_id": "99999999"}, "not one of this account"),
])
def test_bad_interaction_input_is_refused_clearly_and_writes_nothing(pages, session, admin, crm, change, message):
    holding = crm["holding"]
    data = {"account_id": holding.id, "kind": "call", "direction": "outbound", "subject": "Call",
            "occurred_at": "2026-11-20T10:00"}
    data.update({"contact_id": crm["stranger"].id} if change == "stranger" else change)
    before = _interactions(session)
    page = f"http://localhost/crm/accounts/{holding.id}"
    response = pages.log_in_as(admin).post("/crm/interactions", data, headers={"Referer": page})
    assert response.status_code == 303 and response.location == f"/crm/accounts/{holding.id}"
    body = pages.get(response.location).get_data(as_text=True)
    flash = re.search(r'class="flash flash-error"[^>]*>([^<]+)<', body).group(1)
    assert message in flash
    assert _interactions(session) == before


def test_a_read_only_user_sees_no_form_and_may_not_post(pages, session, crm, user_with):
    viewer = user_with(Role.viewer)
    holding = crm["holding"]
    body = pages.log_in_as(viewer).get(f"/crm/accounts/{holding.id}").get_data(as_text=True)
    assert "First call" in body and 'action="/crm/interactions"' not in body
    before = _interactions(session)
    response = pages.post("/crm/interactions", {"account_id": holding.id, "kind": "call", "direction": "outbound",
                                                "subject": "Sneaky", "occurred_at": "2026-11-20T10:00"})
    assert response.status_code == 403
    assert _interactions(session) == before


def test_posting_to_an_unreadable_account_is_404(pages, session, crm, user_with):
    outsider = user_with(None)
    response = pages.log_in_as(outsider).post("/crm/interactions", {
        "account_id": crm["holding"].id, "kind": "call", "direction": "outbound", "subject": "x",
        "occurred_at": "2026-11-20T10:00"})
    assert response.status_code == 404


def test_an_interaction_without_the_csrf_token_is_400(pages, session, admin, crm):
    before = _interactions(session)
    response = pages.log_in_as(admin).post("/crm/interactions", {
        "account_id": crm["holding"].id, "kind": "call", "direction": "outbound", "subject": "x",
        "occurred_at": "2026-11-20T10:00"}, csrf=False)
    assert response.status_code == 400
    assert _interactions(session) == before


def test_the_quick_form_partial_works_on_a_deal_page(app, session, admin, crm, user_with):
    """The deal page includes the partial with ``account`` and ``deal``; it builds its own form."""
    from flask import g, render_template_string

    template = '{% include "crm/_quick_interaction.html" %}'
    with app.test_request_context(f"/crm/deals/{crm['deal'].id}"):
        g.user = admin
        html = render_template_string(template, account=crm["holding"], deal=crm["deal"])
        assert 'action="/crm/interactions"' in html
        assert f'name="deal_id" type="hidden" value="{crm["deal"].id}"' in html
        assert f'name="account_id" type="hidden" value="{crm["holding"].id}"' in html
        assert "Sergey Orlov" in html and f'name="next" value="/crm/deals/{crm["deal"].id}"' in html
        g.user = user_with(Role.viewer)
        assert "<form" not in render_template_string(template, account=crm["holding"], deal=crm["deal"])
