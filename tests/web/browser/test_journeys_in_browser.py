"""Whole journeys across the pages, in a real browser, on a desktop and on a 390x844 phone: an account manager's
call that becomes a lead, a deal, a second deal and a task; a project manager's blank project planned, linked and
moved on the Gantt, then scheduled; an administrator's EPS branch and pipeline stages. Each step is checked
against what it stored. They write data, so they run on a demo server of their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser import eps_steps  # noqa: E402
from tests.web.browser.private_server import log_in, own_server  # noqa: E402,F401 - fixtures: a demo of its own

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SCREENS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def _tag(viewport) -> str:
    return "phone" if viewport["width"] < 800 else "desktop"


def _read(own_server, read):
    """``read(session)`` in a session of its own on the module's server, the objects detached."""
    with own_server.app.app_context():
        session = db.new_session()
        try:
            found = read(session)
            session.expunge_all()
            return found
        finally:
            session.close()


def _fits(page, name: str) -> None:
    """On a phone, the page does not scroll sideways."""
    if page.viewport_size["width"] < 800:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


# 1. An account manager takes a phone call.

@SCREENS
def test_a_call_becomes_a_lead_a_deal_a_second_deal_and_a_task(log_in, own_server, screenshot, viewport):
    from accounts.models import Account, Contact, Deal, Lead, LeadStatus, Task

    tag = _tag(viewport)
    company = f"Ladoga Fisheries {tag}"
    page = log_in("am@crmpm.local")
    page.set_viewport_size(viewport)

    # The call: the lead typed in while talking.
    page.goto(own_server.url("/crm/leads"))
    page.click("a.button >> text=New lead")
    page.wait_for_url(re.compile(r"/crm/leads/new$"))
    page.get_by_label("Name", exact=True).fill("Sergey Kuznetsov")
    page.get_by_label("Company", exact=True).fill(company)
    phone = "8 (921) 555-12-34" if tag == "desktop" else "8 (921) 555-43-21"  # else the second joins the first
    page.fill("input[name=phone]", phone)
    page.fill("input[name=email]", f"s.kuznetsov.{tag}@ladoga.example")
    page.fill("textarea[name=message]", "Asks for cold-store monitoring")
    page.select_option("select[name=region_node_id]", index=1)
    _fits(page, "new lead")
    screenshot(page, f"journey-am-lead-{tag}")
    page.click("form.entry-form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/crm/leads/\d+$"))
    expect(page.locator(".flash")).to_contain_text("The lead was recorded")
    lead_id = int(page.url.rsplit("/", 1)[1])
    lead = _read(own_server, lambda s: s.get(Lead, lead_id))
    assert (lead.company, lead.contact_name) == (company, "Sergey Kuznetsov")
    assert lead.status in (LeadStatus.new, LeadStatus.assigned)  # routed at once when a rule matches
    assert lead.phone and re.sub(r"\D", "", lead.phone)[1:] == re.sub(r"\D", "", phone)[1:]

    # Qualified: the account, its contact and the first deal are made, and the deal page opens.
    qualify = page.locator("form[data-action=qualify]")
    qualify.locator("input[name=deal_name]").fill(f"{company}: monitoring")
    qualify.locator("input[name=amount]").fill("480 000")
    qualify.get_by_role("button", name="Qualify").click()
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    expect(page.locator(".flash-info")).to_contain_text("The lead was qualified")
    lead = _read(own_server, lambda s: s.get(Lead, lead_id))
    assert lead.status == LeadStatus.qualified and lead.deal_id == int(page.url.rsplit("/", 1)[1])
    account = _read(own_server, lambda s: s.scalar(select(Account).where(Account.name == company)))
    assert account is not None
    first_deal = _read(own_server, lambda s: (lambda d: (d.account_id, d.amount))(s.get(Deal, lead.deal_id)))
    assert first_deal == (account.id, 480000)
    _fits(page, "deal after qualifying")

    # The contact card, from the deal's facts.
    page.locator("dl.facts a[href*='/crm/contacts/']").click()
    page.wait_for_url(re.compile(r"/crm/contacts/\d+$"))
    contact_id = int(page.url.rsplit("/", 1)[1])
    contact = _read(own_server, lambda s: s.get(Contact, contact_id))
    assert (contact.first_name, contact.last_name, contact.account_id) == ("Sergey", "Kuznetsov", account.id)
    expect(page.locator("h1")).to_contain_text("Sergey Kuznetsov")
    expect(page.locator("a[href^='tel:']").first).to_be_visible()
    _fits(page, "contact card")
    screenshot(page, f"journey-am-contact-{tag}")

    # A second deal from the board's "+" in the Needs analysis column (on a phone, chosen with the switcher).
    page.goto(own_server.url("/crm/pipeline"))
    column = page.locator('.board-column[data-stage-name="Needs analysis"]')
    stage_id = column.get_attribute("data-stage")
    switcher = page.locator("[data-board-switch] select")
    if tag == "phone":
        switcher.select_option(stage_id)
    else:
        expect(switcher).to_be_hidden()
    column.locator("a[data-add-deal]").click()
    page.wait_for_url(re.compile(rf"/crm/deals/new\?stage_id={stage_id}$"))
    expect(page.locator("select[name=stage_id]")).to_have_value(stage_id)
    name = f"{company}: spare sensors"
    page.fill("input[name=name]", name)
    page.select_option("select[name=account_id]", label=company)
    expect(page.locator("select[name=contact_id] option", has_text="Sergey Kuznetsov")).to_have_count(1)
    page.select_option("select[name=contact_id]", label="Sergey Kuznetsov")
    page.fill("input[name=amount]", "75 000,50")
    _fits(page, "new deal")
    page.click("form[data-deal-form] button[type=submit].primary")
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    deal_id = int(page.url.rsplit("/", 1)[1])
    deal = _read(own_server, lambda s: (lambda d: (d.name, d.account_id, d.contact_id, d.stage_id, str(d.amount)))(
        s.get(Deal, deal_id)))
    assert deal == (name, account.id, contact_id, int(stage_id), "75000.50")
    expect(page.locator("h1")).to_contain_text("Needs analysis")

    # A task with a reminder on the second deal.
    title = f"Send the sensor offer ({tag})"
    page.locator("details.linked-task summary").click()
    task_form = page.locator("details.linked-task form")
    task_form.get_by_label("Task").fill(title)
    task_form.locator("input[name=due_at]").fill("2027-04-05T15:00")
    task_form.locator("input[name=remind_at]").fill("2027-04-05T09:00")
    _fits(page, "deal with the task form open")
    task_form.get_by_role("button", name="Add task").click()
    expect(page.locator(".flash-info")).to_contain_text("The task was added")
    page.wait_for_url(re.compile(rf"/crm/deals/{deal_id}"))
    task = _read(own_server, lambda s: s.scalar(select(Task).where(Task.title == title)))
    assert task is not None and (task.deal_id, task.account_id) == (deal_id, account.id)
    assert task.due_at - task.remind_at == timedelta(hours=6)
    expect(page.locator("main")).to_contain_text(title)
    screenshot(page, f"journey-am-task-{tag}")


# 2. A project manager plans a blank project.

PER_DAY = 28.0  # pixels a day in the Gantt's day zoom


def _add_element(page, code: str, name: str) -> None:
    form = page.locator("details.pm-add:has(summary:has-text('Add a WBS element'))")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.get_by_label("Code").fill(code)
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Add").click()
    expect(page.locator(".flash-info")).to_contain_text(f"WBS element {code} added")


def _add_activity(page, project_path: str, element: str, code: str, name: str, days: int) -> None:
    page.goto(project_path)
    page.click(f"table.pm-wbs a.code:text-is('{element}')")
    page.wait_for_selector(f"[data-wbs-panel='{element}']")
    form = page.locator("details.pm-add:has(summary:has-text('Add an activity'))")
    form.locator("summary").click()
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=original_duration]").fill(str(days))
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-info")).to_contain_text(f"Activity {code} added")


def _gantt_drag(page, source, dx: float = 0, target=None) -> None:
    """A mouse drag: from the middle of ``source`` by ``dx`` pixels, or onto the middle of ``target``."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    if target is not None:
        goal = target.bounding_box()
        page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2, steps=8)
    else:
        page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def _schedule(page) -> None:
    page.get_by_role("button", name="Schedule").first.click()
    expect(page.locator(".flash-info")).to_contain_text("Scheduled at the data date")


@SCREENS
def test_a_blank_project_is_planned_linked_and_moved_on_the_gantt_and_scheduled(log_in, own_server, screenshot,
                                                                                viewport):
    from eps.models import Project
    from wbs.models import Activity, Relationship, WbsElement

    tag = _tag(viewport)
    code = f"JRN-{tag.upper()}"
    page = log_in("pm@crmpm.local")
    page.set_viewport_size(viewport)

    # A blank project under SPB, starting on Monday 2 March 2026.
    page.goto(own_server.url("/projects/new"))
    page.get_by_label("Name", exact=True).fill(f"Cold store {tag}")
    page.locator("#new-code").fill(code)
    spb = page.locator("#new-node option", has_text="SPB · ").first.get_attribute("value")
    page.locator("#new-node").select_option(spb)
    page.get_by_label("Planned start").fill("2026-03-02")
    _fits(page, "new project")
    screenshot(page, f"journey-pm-new-{tag}")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    project_path = page.url
    project_id = int(project_path.rsplit("/", 1)[1])
    project = _read(own_server, lambda s: s.get(Project, project_id))
    assert (project.code, project.eps_node_id) == (code, int(spb))

    # A WBS of two elements and five activities, three under the first and two under the second.
    _add_element(page, f"{code}.1", "Design")
    _add_element(page, f"{code}.2", "Build")
    codes = ["A1", "A2", "A3", "A4", "A5"]
    for n, activity in enumerate(codes):
        _add_activity(page, project_path, f"{code}.{1 if n < 3 else 2}", activity, f"Step {n + 1}", 3)

    def plan(session):
        rows = session.scalars(select(WbsElement).where(WbsElement.project_id == project_id))
        elements = {e.id: e.code for e in rows}
        activities = {a.code: (elements[a.wbs_element_id], a.original_duration_hours)
                      for a in session.scalars(select(Activity).where(Activity.project_id == project_id))}
        return sorted(elements.values()), activities

    elements, activities = _read(own_server, plan)
    assert elements == [f"{code}.1", f"{code}.2"]
    assert activities == {c: (f"{code}.{1 if n < 3 else 2}", 24.0) for n, c in enumerate(codes)}  # 3 days of 8 h
    page.goto(project_path)
    _schedule(page)
    _fits(page, "project page")
    screenshot(page, f"journey-pm-plan-{tag}")

    # On the Gantt: a link drawn from A1's finish onto A2, then A3 dragged a week later and the constraint confirmed.
    page.get_by_role("link", name="Gantt chart").first.click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}/gantt"))
    page.goto(own_server.url(f"/projects/{project_id}/gantt?zoom=days"))
    bar = lambda c: page.locator(f"g.pm-row[data-code={c}]")  # noqa: E731
    bar("A1").hover()
    _gantt_drag(page, bar("A1").locator("circle.pm-link-handle[data-end=finish]"), target=bar("A2").locator("rect.bar"))
    expect(page.locator("[data-gantt-status]")).to_contain_text("A1 → A2 (FS) linked")
    _gantt_drag(page, bar("A3").locator("rect.bar"), 7 * PER_DAY)
    dialog = page.locator("dialog#pm-gantt-confirm")
    expect(dialog).to_be_visible()
    assert "A3" in dialog.inner_text() and "Mar 9, 2026" in dialog.inner_text()
    screenshot(page, f"journey-pm-gantt-confirm-{tag}")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("[data-gantt-status]")).to_contain_text("A3 starts on or after")

    # Scheduled: what is stored follows the link and the constraint.
    _schedule(page)
    screenshot(page, f"journey-pm-scheduled-{tag}")

    def stored(session):
        found = {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == project_id))}
        by_id = {a.id: c for c, a in found.items()}
        links = {(by_id[p], by_id[s], t) for p, s, t in session.execute(
            select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type)
            .where(Relationship.successor_id.in_(list(by_id))))}
        dates = {c: (a.early_start, a.early_finish, a.constraint_type, a.constraint_date) for c, a in found.items()}
        return dates, links

    dates, links = _read(own_server, stored)
    assert links == {("A1", "A2", "FS")}
    assert dates["A2"][0] >= dates["A1"][1]  # A2 starts when A1 has finished
    assert dates["A1"][0].date().isoformat() == "2026-03-02"
    assert dates["A3"][2] == "start_on_or_after" and dates["A3"][3].date().isoformat() == "2026-03-09"
    assert dates["A3"][0] >= dates["A3"][3]
    assert dates["A4"][0].date().isoformat() == dates["A5"][0].date().isoformat() == "2026-03-02"  # untouched
    assert bar("A2").get_attribute("data-start") == dates["A2"][0].strftime("%Y-%m-%dT%H:%M")


# 3. An administrator lays out a branch and edits a pipeline's stages.

@SCREENS
def test_an_administrator_lays_out_a_branch_moves_a_node_and_edits_stages(log_in, own_server, screenshot, viewport):
    from accounts.models import Pipeline, PipelineStage
    from eps.models import EpsNode

    tag = _tag(viewport)
    prefix = f"JB{tag[0].upper()}"
    page = log_in("admin@crmpm.local")
    page.set_viewport_size(viewport)

    page.goto(own_server.url("/eps/"))
    eps_steps.create_node(page, None, prefix, f"Journey branch {tag}")
    eps_steps.create_node(page, prefix, f"{prefix}-1", "North")
    eps_steps.create_node(page, prefix, f"{prefix}-2", "South")
    branch, north, south = (own_server.id_of(c) for c in (prefix, f"{prefix}-1", f"{prefix}-2"))
    eps_steps.expand(page, branch)
    expect(eps_steps.children(page, branch)).to_have_count(2)
    _fits(page, "EPS")
    screenshot(page, f"journey-admin-eps-{tag}")

    # South dragged onto North: it moves under it, as stored.
    eps_steps.row(page, f"n{south}").drag_to(eps_steps.row(page, f"n{north}"))
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {prefix}-2 moved under {prefix}-1.")
    eps_steps.expand(page, branch)
    eps_steps.expand(page, north)
    expect(eps_steps.children(page, north)).to_have_count(1)
    expect(eps_steps.children(page, branch)).to_have_count(1)
    parents = _read(own_server, lambda s: {n.code: n.parent_id for n in s.scalars(
        select(EpsNode).where(EpsNode.id.in_([branch, north, south])))})
    assert parents == {prefix: None, f"{prefix}-1": branch, f"{prefix}-2": north}
    screenshot(page, f"journey-admin-eps-moved-{tag}")

    # The demo's sales pipeline: a stage added, moved up with the keyboard, its probability changed.
    page.goto(own_server.url("/settings/pipelines"))
    page.locator("tr[data-pipeline] td a").first.click()
    page.wait_for_url(re.compile(r"/settings/pipelines/\d+$"))
    pipeline_id = int(page.url.rsplit("/", 1)[1])
    stage = f"Site survey {tag}"
    page.fill("#new-stage input[name=name]", stage)
    page.fill("#new-stage input[name=probability]", "40")
    page.click("#new-stage button[type=submit]")
    expect(page.locator(".flash-info")).to_contain_text(stage)
    names = lambda: page.locator(".stage-row .stage-form input[name$='-name']").evaluate_all(  # noqa: E731
        "inputs => inputs.map(input => input.value)")
    before = names()
    at = before.index(stage)
    row = page.locator(".stage-row", has=page.locator(f"input[value='{stage}']"))
    row.locator(".stage-form button[type=submit]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Move {stage} up"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    after = names()
    assert after[at - 1] == stage and after[at] == before[at - 1]
    row = page.locator(".stage-row", has=page.locator(f"input[value='{stage}']"))
    row.locator("input[name$='-probability']").fill("45")
    with page.expect_navigation():
        row.locator("input[name$='-probability']").press("Enter")
    expect(page.locator(".flash-info")).to_contain_text(stage)
    _fits(page, "pipeline stages")
    screenshot(page, f"journey-admin-stages-{tag}")

    def stages(session):
        rows = session.scalars(select(PipelineStage).where(PipelineStage.pipeline_id == pipeline_id)
                               .order_by(PipelineStage.position))
        return [(s.name, s.probability) for s in rows], session.get(Pipeline, pipeline_id).is_active

    kept, active = _read(own_server, stages)
    assert [name for name, _ in kept] == after and active
    assert dict(kept)[stage] == 45
