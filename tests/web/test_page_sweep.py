"""An adversarial sweep of every page route, found in ``app.url_map`` (new pages are swept by themselves).

A small world holds one object of each kind in branch A (a viewer's) and one in
branch B (out of everyone's reach but the admin's); every name carries a marker
of its branch and an XSS payload. Every page route is then called:

- logged out: GET goes to the login page, POST without a CSRF token is 400;
- by an outsider (no grants) and a viewer of A, with the ids of objects they may
  not read: 404/403, never a 500, never a marker of what they may not see;
- by a viewer, every POST on A: 403/404 and the database unchanged;
- by the admin, every POST without a CSRF token: 400 and nothing changed;
- by the admin, every page: no payload rendered unescaped (HTML, SVG charts, Gantt, fragments);
- by the admin, garbage (hypothesis) in every field of every form found on the
  rendered pages and in every query argument they link with: never a 500 or a
  traceback; an error page or a redirect to a page that shows a message.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import io
import itertools
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, IntegerConverter

from accounts import activities, leads, routing
from accounts.billing import invoices as billing_invoices
from accounts.billing import milestones as billing_milestones
from accounts.models import DealLine
from accounts.automation import services as automation
from accounts.automation.models import AutomationRun
from accounts.paperwork import services as paperwork
from crmpm import notifications
from crmpm.database import Base
from crmpm.users import resets
from crmpm.jobs.models import Job, JobFile
from eps import budgets, services as eps_services
from eps.models import Role
from tests import factories
from tests.corpus import IN_REPO
from wbs import baselines, codes, udfs
from wbs import services as wbs_services
from wbs.resources import levelling_service
from wbs.resources.models import Assignment, Resource
from wbs.scheduling import service as scheduling_service

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=1>'
RAW = [SCRIPT, "<img src=x onerror=1>"]
SEEN, HIDDEN, PERSON = "SEENA", "HIDDENB", "PERSONX"


FORMULA = "=HYPERLINK(1)"


def label(marker: str, what: str) -> str:
    # Branch A's names also start like a spreadsheet formula, which no export may hand over as one.
    return f"{FORMULA if marker == SEEN else ''}{marker} {what} {SCRIPT}{IMG}"


# --- the world -------------------------------------------------------------------------------------------------

def _branch(session, admin, *, root, marker, pipeline, owner, assignee):
    """One object of each kind in a branch whose names carry ``marker``."""
    node = factories.node(session, actor=admin, parent=root, code=f"{marker}N", budget="1000.00")
    node.name = label(marker, "node")
    project = factories.project(session, actor=admin, node=node, code=f"{marker}P", budget="100.00")
    project.name = label(marker, "project")
    account = factories.account(session, actor=admin, region=node, name=label(marker, "account"), owner=owner)
    contact = factories.contact(session, actor=admin, account=account, first_name=f"{marker} {SCRIPT}",
                                last_name=label(marker, "contact"), phone="+79160000001")
    # The same person again (the same phone): the contact card offers to merge them.
    factories.contact(session, actor=admin, account=account, first_name=f"{marker} {SCRIPT}",
                      last_name=label(marker, "duplicate contact"), phone="+7 916 000-00-01")
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Proposal",
                          amount="1000.00", owner=owner, expected_close=datetime(2026, 9, 1).date())
    deal.project.name = label(marker, "deal")
    deal.project.code = f"{marker}D"
    won = factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Won", amount="500.00",
                         owner=owner)
    won.project.name = label(marker, "won deal")
    won.project.code = f"{marker}W"
    now = datetime.now(timezone.utc)
    interaction = factories.interaction(session, actor=admin, account=account, occurred_at=now - timedelta(days=1),
                                        subject=label(marker, "interaction"), summary=label(marker, "summary"),
                                        contact=contact, deal=deal)
    task = activities.create_task(session, actor=admin, title=label(marker, "task"), due_at=now + timedelta(days=1),
                                  account=account, deal=deal, assignee=assignee)
    lead = leads.create_lead(session, actor=admin, region=node, company=label(marker, "lead company"),
                             contact_name=label(marker, "lead contact"), source="website")
    element = wbs_services.create_element(session, actor=admin, project=project, code=f"{marker}E",
                                          name=label(marker, "wbs"))
    wbs_services.create_element(session, actor=admin, project=project, code=f"{marker}E1", parent=element,
                                name=label(marker, "wbs child"))
    first = wbs_services.create_activity(session, actor=admin, project=project, code=f"{marker}A1",
                                         name=label(marker, "activity"), wbs_element_id=element.id,
                                         original_duration_hours=16.0, budgeted_cost=Decimal("10.00"))
    second = wbs_services.create_activity(session, actor=admin, project=project, code=f"{marker}A2",
                                          name=label(marker, "activity two"), wbs_element_id=element.id,
                                          original_duration_hours=8.0)
    relationship = wbs_services.create_relationship(session, actor=admin, project=project, predecessor=first,
                                                    successor=second)
    calendar = wbs_services.create_calendar(session, actor=admin, project=project, name=label(marker, "calendar"),
                                            week=[[[480, 720], [780, 1020]]] * 5 + [[], []],
                                            exceptions={datetime(2026, 3, 9).date(): []})
    wbs_services.update_plan(session, actor=admin, project=project, planned_start=datetime(2026, 3, 2, 8),
                             data_date=datetime(2026, 3, 2, 8))
    scheduling_service.schedule_project(session, actor=admin, project=project)  # takes its first baseline
    baseline = baselines.create_baseline(session, actor=admin, project=project, name=label(marker, "baseline"),
                                         role="secondary")
    activities.create_task(session, actor=admin, title=label(marker, "admin's task"), due_at=now, account=account,
                           assignee=admin)
    # An activity code of the project's own (a value below another, the first activity holding it) and a UDF.
    code_type = codes.create_code_type(session, actor=admin, scope="project", project=project,
                                       name=label(marker, "code type")[:100], max_length=60)
    top = codes.create_code_value(session, actor=admin, code_type=code_type, value=f"{marker}<b>V",
                                  description=label(marker, "code value"))
    below = codes.create_code_value(session, actor=admin, code_type=code_type, value=f"{marker}W", parent_id=top.id)
    codes.set_activity_codes(session, actor=admin, project=project, activity=first, values={code_type.id: below.id})
    weight = udfs.create_udf_type(session, actor=admin, subject="activity", name=label(marker, "udf")[:100],
                                  data_type="number")
    udfs.set_udf_values(session, actor=admin, project=project, subject=first, values={weight.id: 1.5})
    health = udfs.create_udf_type(session, actor=admin, subject="project", name=label(marker, "project udf")[:100],
                                  data_type="date")
    udfs.set_udf_values(session, actor=admin, project=project, values={health.id: datetime(2026, 3, 2, 8)})
    risk = udfs.create_udf_type(session, actor=admin, subject="wbs", name=label(marker, "wbs udf")[:100],
                                data_type="text")
    udfs.set_udf_values(session, actor=admin, project=project, subject=element, subject_kind="wbs",
                        values={risk.id: label(marker, "wbs udf value")})
    # An activity code of the node's, with a value (its page at /eps/nodes/<id>/codes).
    node_type = codes.create_code_type(session, actor=admin, scope="eps", eps_node=node,
                                       name=label(marker, "node code type")[:100])
    codes.create_code_value(session, actor=admin, code_type=node_type, value=f"{marker}N",
                            description=label(marker, "node code value"))
    # The resource pool (not secret: named for everyone) and an assignment of the branch's first activity.
    resource = factories.resource(session, actor=admin, code=f"POOL{marker[-1]}", name=label(PERSON, "resource"),
                                  price="10.00")
    pool_role = factories.role(session, actor=admin, code=f"ROLE{marker[-1]}", name=label(PERSON, "role"),
                               price="12.00")
    assignment = factories.assignment(session, actor=admin, activity=first, resource=resource, role=pool_role)
    # A resource both activities need beyond its limit, levelled: the levelling page shows a run's report.
    scarce = Resource(code=f"LVL{marker[-1]}<b>R", name=label(PERSON, "scarce resource"), max_units_per_hour=0.5)
    session.add(scarce)
    session.flush()
    session.add_all([Assignment(project_id=project.id, activity_id=a.id, resource_id=scarce.id, units_per_hour=1.0)
                     for a in (first, second)])
    session.flush()
    levelling_service.level_projects(session, actor=admin, projects=[project])
    change = budgets.request_change(session, actor=admin, obj=project, amount=Decimal("5.00"),
                                    reason=label(marker, "reason"))
    # A resource of the branch booked on its project (the capacity page lists it, and its histogram).
    booked = Resource(code=f"CAP{marker[-1]}", name=label(PERSON, "booked resource"), eps_node_id=node.id,
                      calendar_id=calendar.id)
    session.add(booked)
    session.flush()
    session.add(Assignment(project_id=project.id, activity_id=first.id, resource_id=booked.id,
                           remaining_units=16.0, start=datetime(2026, 12, 7, 8), finish=datetime(2026, 12, 8, 17)))
    session.flush()
    # A document on the deal (a new version too), named and tagged with the branch's marker.
    from accounts.documents import services as documents

    document = documents.add_document(session, actor=admin, subject=deal, name=f"{marker} <b>plan.txt",
                                      kind="drawing", data=f"{marker} text".encode(), tags=[label(marker, "tag")[:60]])
    documents.add_version(session, actor=admin, document=document, name=f"{marker} plan v2.txt", data=b"v2")
    documents.add_document(session, actor=admin, subject=account, name=f"{marker} contract.txt", kind="contract",
                           data=b"terms")
    # Billing: a milestone of the project and a draft invoice billing the account, names carrying the marker.
    milestone = billing_milestones.create(session, actor=admin, project=project, name=label(marker, "milestone"),
                                          amount=Decimal("100.00"))
    invoice = billing_invoices.create_manual(
        session, actor=admin, project=project, account_id=account.id, base_currency="RUB",
        note=label(marker, "invoice note"),
        lines=[billing_invoices.LineInput(label(marker, "invoice line"), Decimal("2"), Decimal("10.00"))])
    if marker == HIDDEN:  # the admin reads both branches: a draft's forms in A, an issued invoice's in B
        billing_invoices.issue(session, actor=admin, invoice=invoice)
    deal.lines.append(DealLine(product=label(marker, "product")[:100], quantity=Decimal("1"), unit_price=Decimal("10.00")))
    # A document generated from the deal (its page).
    generated = paperwork.generate(session, actor=admin, kind="offer", language="ru", deal=deal, fmt="docx")
    billing = _billing(session, admin, marker=marker, project=project, account=account)
    return billing | {"milestone": milestone, "invoice": invoice,
                      "node": node, "project": project, "account": account, "contact": contact, "deal": deal,
                      "document": document, "generated document": generated, "interaction": interaction,
            "task": task, "lead": lead, "element": element, "activity": first, "activity two": second,
            "relationship": relationship, "calendar": calendar, "baseline": baseline,
            "change": change, "stage": deal.stage, "code type": code_type, "code value": below,
            "resource": resource, "role": pool_role, "assignment": assignment}


def _billing(session, admin, *, marker, project, account):
    """An issued invoice of the project with a payment matched to it, and a statement with a payment to match."""
    from accounts.billing import payments
    from accounts.billing.models import BankStatement, Payment
    from tests.accounts.billing.factories import issued_invoice

    invoice = issued_invoice(session, project=project, account=account, total="300.00")
    payment = payments.record_payment(session, actor=admin, amount=Decimal("100.00"), paid_on=date(2026, 12, 5),
                                      invoice_id=invoice.id, payer_name=label(marker, "payer"),
                                      purpose=label(marker, "purpose"))
    statement = BankStatement(file_name=label(marker, "statement"), sha256="0" * 64, payments=1, unmatched=1)
    session.add(statement)
    session.flush()
    payment.statement_id = statement.id  # its page offers to unmatch it
    session.add(Payment(source="statement", statement_id=statement.id, dedup_key=f"sweep-{marker}", currency="RUB",
                        amount=Decimal("7.00"), paid_on=date(2026, 12, 4), payer_name=label(marker, "queued payer"),
                        purpose=label(marker, "queued purpose")))
    session.flush()
    return {"paid invoice": invoice, "payment": payment, "statement": statement}


@pytest.fixture
def sweep(app, session, admin, monkeypatch):
    """Branch A (the viewer's) and B (nobody's but the admin's), people, a team, grants and tokens."""
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")  # jobs the pages ask for stay in this process
    admin.name = label(PERSON, "admin")
    root = factories.node(session, actor=admin, code="SWEEPROOT", budget="10000.00")
    pipeline = factories.pipeline(session, name=label(PERSON, "pipeline"))
    viewer = factories.user(session, name=label(PERSON, "viewer"))
    outsider = factories.user(session, name=label(PERSON, "outsider"))
    seller = factories.user(session, name=label(PERSON, "seller"))
    team = factories.team(session, members=[viewer, seller], name=label(PERSON, "team"))
    world = {
        "A": _branch(session, admin, root=root, marker=SEEN, pipeline=pipeline, owner=seller, assignee=viewer),
        "B": _branch(session, admin, root=root, marker=HIDDEN, pipeline=pipeline, owner=seller, assignee=seller),
    }
    world["A"]["grant"] = factories.grant(session, actor=admin, role=Role.viewer, target=world["A"]["node"],
                                          user=viewer)
    world["B"]["grant"] = factories.grant(session, actor=admin, role=Role.editor, target=world["B"]["node"],
                                          user=seller)
    for stage in pipeline.stages:
        stage.name = f"{stage.name} {SCRIPT}"
    factories.token(session, user=viewer)
    factories.token(session, user=admin)
    # Replaced paperwork templates (their page offers to restore them).
    for kind in paperwork.KINDS:
        for language in paperwork.LANGUAGES:
            paperwork.upload_template(session, actor=admin, kind=kind, language=language,
                                      data=paperwork.default_template(kind, language),
                                      file_name=label(PERSON, "template")[:60] + ".docx")
    from crmpm.users.models import ApiToken

    tokens = {token.user_id: token for token in session.scalars(select(ApiToken))}
    for side, owner in (("A", viewer), ("B", admin)):
        world[side] |= {"team": team, "user": seller, "token": tokens[owner.id]}
    # Settings: pipelines and routing rules are shared configuration (admins change them); an absence of the
    # seller's with the viewer as deputy in A (read by the viewer, not cancelled), one without in B.
    now = datetime.now(timezone.utc)
    for side, marker, deputy in (("A", SEEN, viewer), ("B", HIDDEN, None)):
        rule = routing.create_rule(session, actor=admin, name=label(PERSON, f"rule {side}"), team=team,
                                   members=[{"user_id": seller.id}])
        absence = routing.create_absence(session, actor=admin, user=seller, deputy=deputy, reason=label(marker, "absence"),
                                         starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
        world[side] |= {"pipeline": pipeline, "rule": rule, "absence": absence}
        # An automation rule of the pipeline (shared configuration too) and a run of it on the side's deal, whose
        # results (shown on the deal's page and the account's timeline) carry the side's marker.
        automation_rule = automation.create_rule(
            session, actor=admin, pipeline=pipeline, name=label(PERSON, f"automation {side}"),
            trigger="deal.entered_stage", stage_id=world[side]["stage"].id,
            actions=[{"type": "create_task", "title": f"{{{{ deal_name }}}} {SCRIPT}", "due_in_working_days": 1,
                      "assignee": "owner"}])
        session.add(AutomationRun(rule_id=automation_rule.id, run_key=f"sweep:{side}", deal_id=world[side]["deal"].id,
                                  status="failed", reason=label(marker, "automation reason"),
                                  error=label(marker, "automation error"), attempts=1,
                                  results=[{"type": "create_task", "status": "done", "title": label(marker, "auto task"),
                                            "due_at": "2026-12-07T18:00:00+00:00", "task_id": 1, "assignee_id": 1},
                                           {"type": "send_email", "status": "skipped",
                                            "reason": label(marker, "automation skip")}]))
        world[side]["automation rule"] = automation_rule
    # A password reset link of the seller's: its public page is swept like any other.
    _reset, reset_token = resets.create_link(session, actor=admin, user=seller)
    for side in ("A", "B"):
        world[side]["reset token"] = reset_token
    # A failed job with a file on each side: the seller's in A (nobody else but the admin reads a job), the admin's in B.
    for side, marker, creator in (("A", SEEN, seller), ("B", HIDDEN, admin)):
        job = Job(kind="jobs.noop", params={}, status="failed", attempt=1, max_attempts=1,
                  message=label(marker, "job message"), error=label(marker, "job error"), created_by_id=creator.id)
        session.add(job)
        session.flush()
        session.add(JobFile(job_id=job.id, name=f"{marker}.xer", content_type="text/plain", size=1, data=b"x",
                            expires_at=datetime.now(timezone.utc) + timedelta(days=1)))
        world[side]["job"] = job
        world[side]["import job"] = _import_job(session, admin, marker)
    # An accounting run on each side (the seller's in A, the admin's in B: a run is read by its actor and
    # administrators) whose report names the side's project code, and an expense on each side's project.
    from accounts.accounting.models import AccountingRun
    from wbs.expenses.models import CostAccount, ProjectExpense

    cost_account = CostAccount(code="SWEEP20", name=label(PERSON, "cost account"))
    session.add(cost_account)
    session.flush()
    for side, marker, actor in (("A", SEEN, seller), ("B", HIDDEN, admin)):
        run = AccountingRun(direction="in", what="costs", file_name=label(marker, "costs file"), status="succeeded",
                            rows=2, applied=1, unmatched=1, actor_id=actor.id,
                            report={"unmatched_rows": [{"line": 3, "project": label(marker, "code in file"),
                                                        "reason": "no such project"}],
                                    "created_cost_accounts": [label(marker, "cost account")], "total": "10.00",
                                    "encoding": "utf-8", "separator": ";"})
        session.add(run)
        session.add(ProjectExpense(project_id=world[side]["project"].id, cost_account_id=cost_account.id,
                                   booked_on=now.date(), amount=Decimal("10.00"),
                                   description=label(marker, "expense")))
        session.flush()
        world[side]["accounting run"] = run
    # A notification on each side: the seller's in A (personal: nobody else marks it), the admin's in B.
    for side, marker, whose in (("A", SEEN, seller), ("B", HIDDEN, admin)):
        world[side]["notification"] = notifications.notify(
            session, user_id=whose.id, kind="task_due", subject=("tasks", world[side]["task"].id),
            params={"title": label(marker, "notification"), "due_at": now.isoformat(),
                    "account_id": world[side]["account"].id, "lead_id": None})
    # Marketing: a web form on each side (company-wide objects: every staff user reads both, so their names
    # carry no side's marker; only editors of its branch change one).
    from accounts.marketing import forms as web_forms

    for side in ("A", "B"):
        world[side]["web form"] = web_forms.create_form(
            session, actor=admin, name=label(PERSON, f"web form {side}"), region_node_id=world[side]["node"].id,
            fields=[{"name": "contact_name", "required": True, "label": label(PERSON, "name label")},
                    {"name": "email", "required": False}],
            thank_you=label(PERSON, "thanks"))
        world[side]["web form key"] = world[side]["web form"].key
    world["timesheet"] = _timesheet(session, admin, world)
    # Marketing: a segment is read by every staff user, its members only as far as the reader may read them: a
    # static list of A's contact and a filter over branch B, both the admin's, named for everyone.
    from accounts.marketing import segments as marketing_segments

    world["A"]["segment"] = marketing_segments.create_segment(
        session, actor=admin, name=label(PERSON, "segment A"), kind="static", contact_ids_=[world["A"]["contact"].id])
    world["B"]["segment"] = marketing_segments.create_segment(
        session, actor=admin, name=label(PERSON, "segment B"), flt={"branch_ids": [world["B"]["node"].id]})
    _campaigns(session, seller, world)
    world["client"] = _portal(app, session, admin, world)
    session.commit()
    return {**world, "admin": admin, "viewer": viewer, "outsider": outsider, "pipeline": pipeline, "root": root}


def _campaigns(session, seller, world):
    """Marketing: a campaign of the seller's on each side (company-wide: read by every staff user, so named with
    PERSON), sent to a static segment of the side's contact, with a message and a tracked link."""
    from accounts.marketing.models import Campaign, CampaignLink, CampaignMessage, CampaignVariant, Segment, SegmentMember

    for side in ("A", "B"):
        segment = Segment(name=label(PERSON, f"segment {side}"), subject="contacts", kind="static", owner_id=seller.id)
        session.add(segment)
        session.flush()
        session.add(SegmentMember(segment_id=segment.id, contact_id=world[side]["contact"].id))
        campaign = Campaign(name=label(PERSON, f"campaign {side}"), code=f"SWEEP-{side}", segment_id=segment.id,
                            status="draft" if side == "A" else "sent", owner_id=seller.id, cost=Decimal("100.00"),
                            variants=[CampaignVariant(label="A", subject=label(PERSON, "subject"), body="Hello")])
        session.add(campaign)
        session.flush()
        link = CampaignLink(campaign_id=campaign.id, url="https://example.com/offer")
        session.add(link)
        session.add(CampaignMessage(campaign_id=campaign.id, variant_id=campaign.variants[0].id,
                                    contact_id=world[side]["contact"].id, address="x@example.com",
                                    token=f"sweep-token-{side}", status="sent"))
        session.flush()
        world[side] |= {"campaign": campaign, "campaign link": link}
def _portal(app, session, admin, world):
    """The client portal: each side's deal and plain project shared, its documents visible to clients; A's contact
    a client user (with a password), B's contact invited (its link's token fills the welcome page)."""
    from accounts import services as crm_services
    from accounts.portal import invites, sharing

    tokens = {}
    for side, marker in (("A", SEEN), ("B", HIDDEN)):
        for project in (world[side]["deal"].project, world[side]["project"]):
            sharing.share(session, actor=admin, project=project, shared=True)
        world[side]["document"].client_visible = True
        contact = world[side]["contact"]
        crm_services.update_contact(session, actor=admin, contact=contact, email=f"client-{marker.lower()}@example.test")
        with app.app_context():
            invites.invite(session, actor=admin, contact=contact, link_for=lambda token: tokens.setdefault(side, token))
    from accounts.portal.models import SurveyRequest

    for side in ("A", "B"):  # a survey waiting on each side's deal (the portal's answer form takes its id)
        world[side]["survey request"] = SurveyRequest(account_id=world[side]["account"].id,
                                                      project_id=world[side]["deal"].project_id, kind="csat")
        session.add(world[side]["survey request"])
    session.flush()
    _state, link = resets.find(session, token=tokens["A"])
    client = resets.redeem(session, reset=link, password="a client password for the sweep")
    for side in ("A", "B"):
        world[side]["portal token"] = tokens["B"]
    return client


def _timesheet(session, admin, world):
    """The admin books time (a resource assigned to each side's first activity): this week submitted, both
    projects asked to decide; each side's node locked through a day long past."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from tests.wbs.resources import timesheet_world
    from wbs.resources import timesheets

    resource, _assignments = timesheet_world.resource_for(
        session, user=admin, code="SWEEPRES", activities=[(world[side]["activity"], 40.0) for side in ("A", "B")])
    resource.name = label(PERSON, "resource")
    week = timesheets.week_of(datetime.now(ZoneInfo(admin.time_zone)).date())
    timesheets.save_week(session, actor=admin, resource=resource, week=week, lines=[
        {"activity_id": world[side]["activity"].id, "day": week + timedelta(days=n), "hours": Decimal("7.5"),
         "note": label(marker, "timesheet note")} for n, (side, marker) in enumerate((("A", SEEN), ("B", HIDDEN)))])
    for side in ("A", "B"):
        timesheets.set_lock(session, actor=admin, eps_node=world[side]["node"], locked_through=date(2020, 1, 1))
    return timesheets.submit(session, actor=admin, resource=resource, week=week)


def _import_job(session, admin, marker):
    """The admin's dry run of a deals file, finished with a row error; its names and cells carry ``marker``."""
    rows = io.StringIO()
    csv.writer(rows).writerows([["id", "title", "account", "stage"],
                                [f"{marker}1", label(marker, "import row"), label(marker, "account"), "Proposal"]])
    data = rows.getvalue().encode()
    job = Job(kind="crm.import", status="succeeded", progress=1.0, attempt=1, max_attempts=3, created_by_id=admin.id,
              params={"kind": "deals", "dry_run": True, "partial": False, "tz": "Europe/Moscow",
                      "file": label(marker, "file"),
                      "mapping": {"columns": {"id": "external_id", "title": "title", "account": "account",
                                              "stage": "stage"}}})
    error = {"line": 2, "column": "account", "field": "account", "value": label(marker, "account"),
             "reason": label(marker, "reason")}
    job.result = {"kind": "deals", "rows": 1, "created": 0, "updated": 0, "unchanged": 0, "blank": 0,
                  "error_rows": 1, "dry_run": True, "partial": False, "committed": False, "errors": [error],
                  "errors_total": 1, "ignored_fields": [], "notes": []}
    session.add(job)
    session.flush()
    session.add(JobFile(job_id=job.id, name=label(marker, "file"), content_type="text/csv", size=len(data),
                        data=data, expires_at=datetime.now(timezone.utc) + timedelta(days=1)))
    return job


# --- the routes ------------------------------------------------------------------------------------------------

# A route parameter names the kind of object whose id fills it (``obj_id`` follows ``kind``).
PARAMETERS = {
    "account_id": "account", "contact_id": "contact", "deal_id": "deal", "lead_id": "lead", "stage_id": "stage",
    "task_id": "task",
    "change_id": "change", "node_id": "node", "project_id": "project", "activity_id": "activity",
    "relationship_id": "relationship", "element_id": "element", "grant_id": "grant", "team_id": "team",
    "user_id": "user", "token_id": "token", "job_id": "job", "import_id": "import job", "calendar_id": "calendar",
    "pipeline_id": "pipeline", "rule_id": "rule", "absence_id": "absence", "baseline_id": "baseline",
    "type_id": "code type", "value_id": "code value", "automation_id": "automation rule",
    "notification_id": "notification", "resource_id": "resource", "role_id": "role", "assignment_id": "assignment",
    "run_id": "accounting run",
    "statement_id": "statement", "payment_id": "payment",
    "document_id": "document",
    "invoice_id": "invoice", "milestone_id": "milestone",
    "segment_id": "segment",
    "request_id": "survey request",
    "form_id": "web form",
    "campaign_id": "campaign", "link_id": "campaign link",
}
# Route parameters that are not ids: the text that fills them (a password reset link's token).
TEXT_PARAMETERS = {"token": "reset token", "key": "web form key"}
# ... or, on some pages, another text (the portal's welcome page takes an invitation's token).
ENDPOINT_TEXT_PARAMETERS = {("portal_auth.welcome", "token"): "portal token"}
OBJ_KIND = {"nodes": "node", "projects": "project"}
# ``subject_id`` follows ``subject_type`` (the documents' upload form).
SUBJECT_KIND = {"account": "account", "contact": "contact", "deal": "deal", "project": "project",
                "wbs_element": "element", "activity": "activity"}
SKIPPED_ENDPOINTS = {"static", "web.static"}  # files, not pages
KNOWN_METHODS = {"GET", "POST"}
# Routes that act on the user's own session or profile: anyone logged in may use them.
OWN = {"auth.login", "auth.logout", "auth.set_locale", "profile.update", "profile.create_token",
       "profile.revoke_token", "settings.create_absence", "notifications.read_all", "notifications.save_preferences",
       "marketing_segments.create", "marketing_segments.preview"}
# POSTs that only ask for a copy of what the user may read (the XER file of a big plan, written by a job of
# their own): a viewer may; everyone else is swept as usual.
READS = {"pm.export_xer_job"}
# POSTs of anonymous visitors by design (the public web-to-lead form: no session, no CSRF token, a lead from every
# valid submission); the POST checks below skip them, tests/web/test_web_forms.py covers them.
VISITOR_POSTS = {"public_forms.submit"}
# Ids of objects every staff user reads (pipeline stages; marketing's segments, campaigns and web forms, changed by
# their owners, admins or their branch's editors): not refused to outsiders.
SHARED_IDS = {"stage_id", "segment_id", "campaign_id", "form_id"}
# The public links of campaign messages act for whoever holds a message's token (a click counted, an opt-out
# recorded): swept with a token of no message (the reset link's), so they answer 404 and change nothing; their
# pages with real tokens are tested in tests/accounts/marketing/test_campaigns.py.
TRACKING_LINKS = {"tracking.click", "tracking.unsubscribe", "tracking.unsubscribe_confirm",
                  "tracking_one_click.one_click"}


class Route:
    def __init__(self, rule, method, url, side):
        self.rule, self.method, self.url, self.side = rule, method, url, side
        self.endpoint = rule.endpoint
        # Pipelines (and their stages), segments, campaigns and web forms are shared by all (a segment's members
        # are filtered by the reader's rights); every other id names something with an owner or branch.
        self.has_ids = any(isinstance(c, IntegerConverter) and name not in SHARED_IDS
                           for name, c in rule._converters.items())

    def __repr__(self):
        return f"{self.method} {self.url} ({self.endpoint})"


def page_rules(app):
    blueprints = app.blueprints
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule.startswith("/api") or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        assert "." in rule.endpoint and rule.endpoint.split(".")[0] in blueprints, f"{rule} is not a page"
        yield rule


def is_public(app, rule) -> bool:
    return getattr(app.blueprints[rule.endpoint.split(".")[0]], "public", False)


def is_portal(app, rule) -> bool:
    """Whether ``rule`` is a client portal's page (web.views.portal.common.portal_blueprint): a client's session."""
    return getattr(app.blueprints[rule.endpoint.split(".")[0]], "portal", False)


def routes(app, world, side: str, *, portal: bool = False) -> list[Route]:
    """Every staff page route (or with ``portal``, every client portal's) as a concrete URL with the ids of
    ``side``'s objects; fails on what it cannot fill."""
    found = []
    for rule in page_rules(app):
        if is_portal(app, rule) != portal:
            continue
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert methods <= KNOWN_METHODS, f"the sweep does not know how to call {rule} with {methods - KNOWN_METHODS}"
        choices = []
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                choices.append([(name, item) for item in sorted(converter.items)])
            elif isinstance(converter, IntegerConverter) and (name in PARAMETERS or name in ("obj_id", "subject_id")):
                choices.append([(name, None)])
            elif name in TEXT_PARAMETERS and not isinstance(converter, IntegerConverter):
                key = ENDPOINT_TEXT_PARAMETERS.get((rule.endpoint, name), TEXT_PARAMETERS[name])
                choices.append([(name, world[side][key])])
            else:
                pytest.fail(f"the sweep does not know how to fill <{name}> ({type(converter).__name__}) of {rule}")
        for combination in itertools.product(*choices):
            values = dict(combination)
            for name, value in values.items():
                if value is None:
                    kind = (OBJ_KIND[values["kind"]] if name == "obj_id" else
                            SUBJECT_KIND[values["subject_type"]] if name == "subject_id" else PARAMETERS[name])
                    values[name] = world[side][kind].id
            url = rule.build(values, append_unknown=False)[1]
            found.extend(Route(rule, method, url, side) for method in sorted(methods))
    return found


# --- reading pages ---------------------------------------------------------------------------------------------

class Forms(HTMLParser):
    """The forms of a page: action, method and fields (name, type, value, options); and the links' queries."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.links, self._form, self._select, self._textarea = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").upper(),
                          "enctype": attrs.get("enctype", ""), "fields": {}}
            self.forms.append(self._form)
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("button", "a") and attrs.get("data-url"):
            self.links.append(attrs["data-url"])
        if tag == "button" and self._form is not None and attrs.get("formaction"):
            # A button sending its form elsewhere: the same fields at that action (filled in as the form ends).
            self._form.setdefault("also", []).append(attrs["formaction"])
        if self._form is None or not attrs.get("name"):
            if tag == "option" and self._select is not None:
                self._close_option()
                self._option(attrs)
            return
        name = attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            if attrs.get("inputmode") in ("decimal", "numeric"):
                kind = "number"
            field = self._form["fields"].setdefault(name, {"type": kind, "values": [], "required": False})
            field["required"] |= "required" in attrs
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    field["values"].append(attrs.get("value", "on"))
                field.setdefault("options", []).append(attrs.get("value", "on"))
            elif attrs.get("value") is not None:
                field["values"].append(attrs["value"])
        elif tag == "select":
            self._select = self._form["fields"].setdefault(name, {"type": "select", "values": [], "options": [],
                                                                  "required": "required" in attrs})
        elif tag == "textarea":
            self._textarea = self._form["fields"].setdefault(name, {"type": "textarea", "values": [],
                                                                    "required": "required" in attrs})
        elif tag == "option" and self._select is not None:
            self._close_option()
            self._option(attrs)

    def _option(self, attrs):
        # An option without a value attribute sends its text, which comes next.
        self._option_open = (attrs.get("value"), "selected" in attrs)
        self._option_text = ""

    def _close_option(self):
        if getattr(self, "_option_open", None) is None or self._select is None:
            return
        value, selected = self._option_open
        value = self._option_text.strip() if value is None else value
        self._select["options"].append(value)
        if selected:
            self._select["values"].append(value)
        self._option_open = None

    def handle_data(self, data):
        if self._textarea is not None and data.strip():
            self._textarea["values"].append(data)
        if getattr(self, "_option_open", None) is not None:
            self._option_text += data

    def handle_endtag(self, tag):
        if tag in ("option", "select"):
            self._close_option()
        if tag == "form":
            for action in (self._form or {}).pop("also", []):
                self.forms.append({**self._form, "action": action})
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(html: str) -> Forms:
    forms = Forms()
    forms.feed(html)
    return forms


PLAUSIBLE = {"number": "1", "date": "2026-03-02", "datetime-local": "2026-03-02T10:00", "email": "sweep@example.test",
             "password": "sweep-password-long-1", "month": "2026-03", "time": "10:00"}


# Fields that pick an object by id (the admin's page offers all; the sweep picks the side's own).
FIELD_OBJECTS = {**PARAMETERS, "node": "node"}
# Fields where the user types the code of something the page does not list (a project may have 100k activities).
TYPED_CODES = {"other": lambda objects: objects["activity two"].code}
# Query arguments of links that select an object on a page and open its panel of forms.
SELECTING = {"wbs"}


def plausible(fields: dict, objects: dict | None = None) -> dict:
    """What a user who fills the form in sensibly would send (files left out); empty ``<kind>_id`` fields
    get the id of that kind of object in ``objects``."""
    data = {}
    for name, field in fields.items():
        if name == "csrf_token" or field["type"] == "file":
            continue
        if objects and name in FIELD_OBJECTS and field["type"] != "hidden":
            data[name] = str(objects[FIELD_OBJECTS[name]].id)
        elif objects and name in TYPED_CODES:
            data[name] = TYPED_CODES[name](objects)
        elif field["values"] and (field["values"][0] or field["type"] == "hidden"):
            data[name] = field["values"][0]
        elif field["type"] == "select":
            data[name] = next((o for o in field["options"] if o), "")
        elif field["type"] in ("checkbox", "radio"):
            continue
        else:
            data[name] = PLAUSIBLE.get(field["type"], "sweep text")
    return data


SAMPLE_FILE = IN_REPO / "xer" / "lagcal-TwentyFourHourCalendar.xer"


def submit(pages, route, fields: dict, data: dict, *, csrf: bool = True):
    """POST ``data``; the form's file fields get ``data``'s text as a file, or a real XER when not given."""
    payload = dict(data)
    files = [name for name, field in fields.items() if field["type"] == "file"]
    for name in files:
        content = payload.pop(name).encode("utf-8", "surrogatepass") if name in payload else SAMPLE_FILE.read_bytes()
        payload[name] = (io.BytesIO(content), "plan.xer")
    if files:
        return pages.post(route.url, payload, csrf=csrf, content_type="multipart/form-data")
    return pages.post(route.url, payload, csrf=csrf)


class Site:
    """What the admin's pages show: the forms by action path and the query arguments links use, by path."""

    def __init__(self, app, pages, world):
        self.app, self.pages, self.world = app, pages, world
        self.forms: dict[str, list[dict]] = {}  # by endpoint
        self.queries: dict[str, set[str]] = {}
        self.linked: dict[str, set[str]] = {}  # the query strings the pages' links use, by path
        self.bodies: dict[str, str] = {}
        self.adapter = app.url_map.bind("localhost")
        self._read("/login")
        pages.log_in_as(world["admin"])
        for side in ("A", "B"):
            for route in routes(app, world, side):
                if route.method == "GET":
                    self._read(route.url)
        # A link that selects something opens a panel with forms of its own (the WBS element's): read one per page.
        for path, queries in sorted(self.linked.items()):
            selecting = sorted(q for q in queries if SELECTING & {key for key, _ in parse_qsl(q, True)})
            if selecting:
                self._read(f"{path}?{selecting[0]}")

    def _read(self, url):
        response = self.pages.get(url)
        self.bodies[url] = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if response.mimetype != "text/html":
            return
        found = parse(self.bodies[url])
        for form in found.forms:
            if form["method"] == "DIALOG":
                continue  # closes a <dialog>, sends nothing
            path = urlsplit(form["action"]).path or urlsplit(url).path
            if form["method"] == "GET":
                self.queries.setdefault(path, set()).update(form["fields"])
            else:
                try:
                    endpoint, _args = self.adapter.match(path, method=form["method"])
                except HTTPException as exc:
                    pytest.fail(f"{url} has a form that {form['method']}s to {path}, which answers {exc}")
                self.forms.setdefault(endpoint, []).append(form)
        for link in found.links:
            parts = urlsplit(link)
            if parts.query and not parts.netloc:
                self.queries.setdefault(parts.path, set()).update(key for key, _ in parse_qsl(parts.query, True))
                self.linked.setdefault(parts.path, set()).add(parts.query)

    def form_for(self, route) -> dict:
        """The fields of the forms posting to ``route``'s endpoint, merged (a route may have several forms)."""
        fields = {}
        for form in self.forms.get(route.endpoint, []):
            for name, field in form["fields"].items():
                fields.setdefault(name, field)
        return fields


@pytest.fixture
def site(app, pages, sweep):
    return Site(app, pages, sweep)


def fingerprint(session) -> str:
    """A digest of every row of every table."""
    session.expire_all()
    digest = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def log_in(pages, session, user):
    """A session for ``user`` as the database has them now (a swept form may have changed their password)."""
    session.refresh(user)
    return pages.log_in_as(user)


def flashed(pages, response) -> list[str]:
    """The messages the page a redirect leads to shows."""
    if response.status_code not in (302, 303):
        return []
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    return [m.strip() for m in re.findall(r'<div class="flash flash-\w+"[^>]*>(.*?)</div>', body, re.S)]


def text_of(response) -> str:
    """The answer as text; a workbook's text is that of its XML parts."""
    if response.mimetype.startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
            return "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xml"))
    return response.get_data().decode("utf-8", "replace")


def shows(body: str, marker: str) -> bool:
    return marker in body


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


def assert_answer_is_sane(pages, response, what):
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.mimetype not in ("text/html", "application/json"):
        return  # files (CSV, XLSX, XER, XML) are data, not markup
    body = response.get_data(as_text=True)
    assert not TRACEBACK.search(body), f"{what}: a traceback in the answer"
    if response.mimetype == "application/json":
        return  # plain text for the scripts, which show it with textContent (served with nosniff)
    for raw in RAW:
        assert raw not in body, f"{what}: {raw!r} rendered unescaped"


# --- logged out ------------------------------------------------------------------------------------------------

def test_the_sweep_finds_every_section(app, sweep):
    endpoints = {route.endpoint.split(".")[0] for route in routes(app, sweep, "A")}
    assert endpoints >= {"crm", "dashboards", "pm", "finance", "admin", "profile", "auth", "home"}
    assert len(routes(app, sweep, "A")) > 60


def test_logged_out_gets_the_login_page_and_posts_need_the_token(app, pages, session, sweep):
    before = fingerprint(session)
    token = pages.csrf_token()
    for route in routes(app, sweep, "A"):
        if route.method == "GET":
            response = pages.get(route.url)
            if is_public(app, route.rule):
                assert response.status_code == (404 if route.endpoint in TRACKING_LINKS else 200), route
            else:
                assert response.status_code == 302, route
                assert urlsplit(response.headers["Location"]).path == "/login", route
        elif route.endpoint in VISITOR_POSTS:
            continue
        else:
            response = pages.post(route.url, csrf=False)
            assert response.status_code == 400, route
            if not is_public(app, route.rule):
                response = pages.post(route.url, {"csrf_token": token})
                assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login", route
        body = text_of(response)
        assert SEEN not in body and HIDDEN not in body, route
    assert fingerprint(session) == before


# --- people without rights -------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, side", [("outsider", "A"), ("outsider", "B"), ("viewer", "B")])
def test_no_page_shows_what_the_user_may_not_read(app, pages, session, site, sweep, who, side):
    user = sweep[who]
    before = fingerprint(session)
    for route in routes(app, sweep, side):
        if route.endpoint in OWN or (route.method == "POST" and route.endpoint in VISITOR_POSTS):
            continue
        log_in(pages, session, user)
        if route.method == "GET":
            response = pages.get(route.url)
            # The same page as the admin's links ask for it too ("all owners", other filters), a few of them.
            for query in sorted(site.linked.get(route.url, ()))[:12]:
                wider = pages.get(f"{route.url}?{query}")
                assert wider.status_code < 500, f"{route} ?{query}"
                assert not shows(text_of(wider), HIDDEN), f"{route} ?{query} shows a hidden object"
                assert who != "outsider" or not shows(text_of(wider), SEEN), f"{route} ?{query}"
        else:
            fields = site.form_for(route)
            response = submit(pages, route, fields, plausible(fields, sweep[route.side]))
        assert_answer_is_sane(pages, response, route)
        body = text_of(response)
        if route.has_ids:
            assert response.status_code in (403, 404), f"{route}: {response.status_code}"
        elif route.method == "POST":
            # (The one-click unsubscribe without its List-Unsubscribe=One-Click body: 400, as for any sender.)
            refusals = (303, 403, 404, 400) if route.endpoint in TRACKING_LINKS else (303, 403, 404)
            assert response.status_code in refusals, f"{route}: {response.status_code}"
        assert not shows(body, HIDDEN), f"{route} shows a hidden object"
        if who == "outsider":
            assert not shows(body, SEEN), f"{route} shows an object of a branch the outsider may not read"
        if response.status_code in (302, 303):
            after = text_of(pages.get(response.headers["Location"]))
            assert not shows(after, HIDDEN) and (who != "outsider" or not shows(after, SEEN)), route
        assert fingerprint(session) == before, f"{route} changed the database"


def test_a_viewer_changes_nothing(app, pages, session, site, sweep):
    before = fingerprint(session)
    for route in routes(app, sweep, "A"):
        if route.method != "POST" or route.endpoint in OWN | READS | VISITOR_POSTS | TRACKING_LINKS:
            continue
        log_in(pages, session, sweep["viewer"])
        fields = site.form_for(route)
        data = plausible(fields, sweep[route.side])
        response = submit(pages, route, fields, data)
        assert_answer_is_sane(pages, response, route)
        assert response.status_code in (403, 404), f"{route} {data}: {response.status_code} {flashed(pages, response)}"
        assert fingerprint(session) == before, f"{route} changed the database"


def test_every_post_needs_the_csrf_token(app, pages, session, site, sweep):
    before = fingerprint(session)
    log_in(pages, session, sweep["admin"])
    for side in ("A", "B"):
        for route in routes(app, sweep, side):
            if route.method == "POST" and route.endpoint not in VISITOR_POSTS:
                fields = site.form_for(route)
                response = submit(pages, route, fields, plausible(fields, sweep[route.side]), csrf=False)
                assert response.status_code == 400, route
                assert "<html" in response.get_data(as_text=True), route
    assert fingerprint(session) == before


# --- escaping --------------------------------------------------------------------------------------------------

def test_no_page_renders_a_name_unescaped(app, site, sweep):
    shown = [url for url, body in site.bodies.items() if SEEN in body or HIDDEN in body]
    for url, body in site.bodies.items():
        for raw in RAW:
            assert raw not in body, f"{url} renders {raw!r} unescaped"
    # The payload was really on the pages: in the names, the charts and the Gantt chart.
    assert len(shown) > 20
    gantt = site.bodies[f"/projects/{sweep['A']['project'].id}/gantt"]
    assert "<svg" in gantt and "SEENA activity" in gantt
    assert "<svg" in site.bodies["/dashboards/"] and "PERSONX seller" in site.bodies["/dashboards/"]
    retention = site.bodies["/dashboards/retention"]
    assert 'class="heat-cell"' in retention and "SEENA account" in retention and "PERSONX seller" in retention
    # The fragments the scripts put in with innerHTML (timeline, board cards, tree and WBS rows) carry names too.
    a = sweep["A"]
    fragments = {f"/crm/accounts/{a['account'].id}/timeline": "SEENA interaction",
                 f"/crm/pipeline/stages/{a['stage'].id}/cards?owner=all": "SEENA deal",
                 f"/finance/nodes/{sweep['root'].id}/rows": "SEENA node",
                 f"/eps/nodes/{sweep['root'].id}/rows": "SEENA node",
                 f"/eps/nodes/{a['node'].id}/forms": "SEENA node",
                 f"/projects/{a['project'].id}/wbs/{a['element'].id}/rows": "SEENA wbs child"}
    for url, name in fragments.items():
        body = site.pages.get(url).get_data(as_text=True)
        assert name in body and "&lt;script&gt;" in body and not any(raw in body for raw in RAW), url


def test_no_export_hands_over_a_name_as_a_formula(app, pages, session, sweep):
    log_in(pages, session, sweep["admin"])
    checked = set()
    for route in routes(app, sweep, "A"):
        if route.method != "GET":
            continue
        response = pages.get(route.url)
        if response.mimetype == "text/csv":
            cells = [cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row]
        elif response.mimetype.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml"):
            book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
            cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
            # A cell stored as text shows "=..." as text; only a formula cell would run.
            assert not [cell.coordinate for cell in cells if cell.data_type == "f"], f"{route} has formulas"
            cells = [str(cell.value) for cell in cells if cell.value is not None]
        else:
            continue
        if response.mimetype == "text/csv":  # a CSV has no types: a leading "=" must be quoted away
            assert not [cell for cell in cells if cell.startswith(FORMULA)], f"{route} starts a cell with {FORMULA}"
        if any(SEEN in cell for cell in cells):
            checked.add(route.endpoint)
    assert {"crm.deals_csv", "finance.changes_export"} <= checked, checked


def test_flashed_messages_and_json_answers_escape_names(app, pages, session, sweep):
    log_in(pages, session, sweep["admin"])
    deal = sweep["A"]["deal"]
    negotiation = next(s for s in sweep["pipeline"].stages if s.name.startswith("Negotiation"))
    response = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": str(negotiation.id)},
                          headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert response.status_code == 200 and response.is_json
    # The board's script puts the message in with textContent: plain text, kept as it is.
    assert SCRIPT in response.get_json()["message"]
    response = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": str(deal.stage_id)})
    assert response.status_code == 303
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash" in body and "SEENA deal" in body and SCRIPT not in body


# --- garbage ---------------------------------------------------------------------------------------------------

GARBAGE = ["", " ", "-1", "0", "-0", "9" * 40, "-" + "9" * 40, "1e309", "NaN", "Infinity", "0000-00-00",
           "9999-99-99", "2026-02-30", "2026-13-01T25:61", "' OR 1=1 --", "'; DROP TABLE users; --", SCRIPT, IMG,
           "x" * 5000, "１２３", "٣", "😀" * 30, "%s%n{0}", "../../etc/passwd", "1,5.3", "1 000 000,999",
           "0x10", "None", "null", "[]", "{}", "true", "\u202e", "a\r\nb",
           # where a form goes next: never off this site
           "//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "javascript:alert(1)"]
garbage = st.one_of(st.sampled_from(GARBAGE), st.text(max_size=50),
                    st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str))
EXAMPLES = 25
# Routes whose redirect needs no message: the page they lead to shows the result itself.
SILENT = ("(auth.login)", "(auth.logout)", "(auth.set_locale)")
ERROR_SHOWN = re.compile(r'class="error-page"|class="flash flash-|class="[^"]*(?:error|invalid)[^"]*"')


def _check_garbage_answer(pages, response, what, data=None):
    assert_answer_is_sane(pages, response, what)
    body = response.get_data(as_text=True)
    if response.status_code in (302, 303):
        target = response.headers["Location"]
        if urlsplit(target).path == "/login":
            assert "/login" in what or "/logout" in what, f"{what}: swept while logged out"
        assert not urlsplit(target).netloc or urlsplit(target).netloc == "localhost", what
        followed = pages.get(target, headers={"Accept": "text/html"})
        assert_answer_is_sane(pages, followed, f"{what} → {target}")
        # (A garbage ``next`` that stays on this site is obeyed: whatever page it names is the user's choice.)
        chosen = (data or {}).get("next", "").strip() and urlsplit(target).path == urlsplit(data["next"]).path
        if not any(route in what for route in SILENT) and not chosen:
            assert 'class="flash flash-' in followed.get_data(as_text=True), f"{what}: no message after the redirect"
    elif response.status_code >= 400:
        assert response.mimetype == "text/html" and ERROR_SHOWN.search(body), f"{what}: no error shown"


def test_garbage_in_every_form_is_no_server_error(app, pages, session, site, sweep, backend):
    if backend != "sqlite":
        pytest.skip("one backend is enough for the fuzzing sweep; the NUL-byte sweep runs on both")
    admin = sweep["admin"]
    posts = [route for route in routes(app, sweep, "A") if route.method == "POST"]
    without_form = [route for route in posts if not site.form_for(route)]
    # Every POST route has a form on some page (buttons included); one without is a route nobody can reach.
    assert not [r for r in without_form if r.endpoint not in NO_FIELDS], without_form
    for route in posts:
        fields = {name: f for name, f in site.form_for(route).items() if name != "csrf_token"}

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.fixed_dictionaries({name: garbage for name in fields}))
        def check(data):
            log_in(pages, session, admin)
            response = submit(pages, route, fields, data)
            _check_garbage_answer(pages, response, f"{route} {data!r:.300}", data)

        check()


# Routes whose form is only a button (nothing to fill in); the XER export as a job is offered only on the pages
# of plans above SCHEDULE_ASYNC_ACTIVITIES, bigger than the sweep's.
# Forms with no fields of their own; settings.end_absence's button shows only for an absence under way.
NO_FIELDS = {"auth.logout", "pm.export_xer_job", "settings.end_absence"}
# A campaign's buttons show for its status (send a draft, cancel a scheduled one, delete a draft or cancelled one);
# the unsubscribe page's button and the one-click POST need a message's token (see TRACKING_LINKS).
NO_FIELDS |= {"campaign_pages.send", "campaign_pages.cancel", "campaign_pages.delete"} | TRACKING_LINKS


ARGS_READ = re.compile(r"""args\.get(?:list)?\(\s*["'](\w+)["']""")
PAGINATION = {"page", "per_page"}  # web.pagination.page_args reads them for every list


# Modules whose helpers read query arguments for the pages of a package (the PM pages' ?compare= and ?baselines=).
SHARED_READERS = {"web.views.pm.": "web.views.pm.common"}


def arguments_read(app, route) -> set[str]:
    """The query arguments the route's module (and its package's shared helpers) reads from ``request.args`` by
    name (a superset is harmless)."""
    module = inspect.getmodule(app.view_functions[route.endpoint])
    sources = [inspect.getsource(module)] + [inspect.getsource(importlib.import_module(shared))
                                             for prefix, shared in SHARED_READERS.items()
                                             if module.__name__.startswith(prefix)]
    return {name for source in sources for name in ARGS_READ.findall(source)}


def test_the_arguments_pm_helpers_read_are_swept_too(app, sweep):
    gantt = next(route for route in routes(app, sweep, "A") if route.endpoint == "pm.gantt" and route.method == "GET")
    assert {"compare", "baselines", "zoom"} <= arguments_read(app, gantt)


def test_garbage_in_every_query_argument_is_no_server_error(app, pages, session, site, sweep, backend):
    if backend != "sqlite":
        pytest.skip("one backend is enough for the fuzzing sweep")
    admin = sweep["admin"]
    gets = [route for route in routes(app, sweep, "A") if route.method == "GET"]
    assert sum(1 for route in gets if site.queries.get(route.url)) >= 8  # the pages' own links and filters
    for route in gets:
        arguments = sorted((site.queries.get(route.url, set()) | arguments_read(app, route) | PAGINATION)
                           - {"csrf_token"})

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.fixed_dictionaries({name: garbage for name in arguments}))
        def check(data):
            log_in(pages, session, admin)
            response = pages.get(route.url, query_string=data)
            assert_answer_is_sane(pages, response, f"{route} ?{data!r:.300}")
            assert response.status_code != 302 or urlsplit(response.headers["Location"]).path != "/login", route

        check()


def test_nul_bytes_and_huge_numbers_in_every_field_are_no_server_error(app, pages, session, site, sweep):
    """What PostgreSQL refuses outright (NUL in text, numbers past bigint) must come back as a message."""
    admin = sweep["admin"]
    for route in routes(app, sweep, "A"):
        if route.method != "POST":
            continue
        fields = {name: f for name, f in site.form_for(route).items() if name != "csrf_token"}
        base = plausible(fields)
        for name, field in fields.items():
            if field["type"] == "file":
                continue
            for value in ("a\x00b", "9" * 25, "-" + "9" * 25):
                log_in(pages, session, admin)
                response = pages.post(route.url, base | {name: value})
                # (The public web form has no session to flash in: it names the field on the form it answers.)
                if "\x00" in value and route.endpoint not in {"auth.logout", *VISITOR_POSTS}:
                    assert_answer_is_sane(pages, response, f"{route} {name}={value!r}")
                    messages = flashed(pages, response)  # (shown once: read here, not followed again)
                    assert any("NUL character" in m for m in messages), (route, name, response.status_code, messages)
                else:
                    _check_garbage_answer(pages, response, f"{route} {name}={value!r}")


FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


def test_script_requests_with_bad_input_get_a_json_reason(app, pages, session, site, sweep):
    """What the pages' scripts send (crmpm.request asks for JSON): a refusal is JSON with a message, never a 500."""
    admin = sweep["admin"]
    answered = 0
    for route in routes(app, sweep, "A"):
        if route.method != "POST" or route.endpoint.startswith("auth."):
            continue
        fields = {name: f for name, f in site.form_for(route).items() if f["type"] != "file"}
        for value in ("", SCRIPT, "-1"):
            log_in(pages, session, admin)
            response = pages.post(route.url, {name: value for name in fields if name != "csrf_token"},
                                  headers=FETCH)
            assert_answer_is_sane(pages, response, f"{route} all fields {value!r}")
            if response.is_json and response.status_code >= 400:
                body = response.get_json()
                assert body["message"] and isinstance(body.get("errors"), dict), route
                answered += 1
    assert answered > 10


# --- the client portal -----------------------------------------------------------------------------------------

def log_in_client(pages, session, user):
    """A portal session for the client ``user`` (their own cookie keys; web.views.portal.common)."""
    session.refresh(user)
    with pages.client.session_transaction() as cookie:
        cookie.clear()
        cookie["portal_user_id"] = user.id
        cookie["portal_stamp"] = user.session_stamp
    return pages


def portal_csrf(pages) -> str:
    page = pages.get("/portal/login", follow_redirects=True).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_the_portal_logged_out_goes_to_its_own_login_and_posts_need_the_token(app, pages, session, sweep):
    before = fingerprint(session)
    found = routes(app, sweep, "A", portal=True)
    assert {route.endpoint for route in found} >= {"portal_auth.login", "portal_auth.welcome", "portal.index",
                                                   "portal.project", "portal.download"}
    token = portal_csrf(pages)
    for route in found:
        if route.method == "GET":
            response = pages.get(route.url)
            if is_public(app, route.rule):
                assert response.status_code == 200, route
            else:
                assert response.status_code == 302, route
                assert urlsplit(response.headers["Location"]).path == "/portal/login", route
        else:
            assert pages.post(route.url, csrf=False).status_code == 400, route
            if not is_public(app, route.rule):
                response = pages.post(route.url, {"csrf_token": token})
                assert urlsplit(response.headers["Location"]).path == "/portal/login", route
            continue
        assert SEEN not in text_of(response) and HIDDEN not in text_of(response), route
    assert fingerprint(session) == before


@pytest.mark.parametrize("who", ["admin", "viewer"])
def test_a_staff_session_never_opens_the_portal(app, pages, session, sweep, who):
    before = fingerprint(session)
    for side in ("A", "B"):
        for route in routes(app, sweep, side, portal=True):
            if route.method != "GET" or is_public(app, route.rule):
                continue
            log_in(pages, session, sweep[who])
            response = pages.get(route.url)
            assert response.status_code == 302, route
            assert urlsplit(response.headers["Location"]).path == "/portal/login", route
    assert fingerprint(session) == before


def test_a_client_session_never_opens_a_staff_page(app, pages, session, sweep):
    before = fingerprint(session)
    for side in ("A", "B"):
        for route in routes(app, sweep, side):
            if is_public(app, route.rule):
                continue
            log_in_client(pages, session, sweep["client"])
            if route.method == "GET":
                response = pages.get(route.url)
            else:  # with a valid token of the client's session: refused for want of a staff user, not the token
                response = pages.post(route.url, {"csrf_token": portal_csrf(pages)})
            assert response.status_code == 302, route
            assert urlsplit(response.headers["Location"]).path == "/login", route
            assert SEEN not in text_of(response) and HIDDEN not in text_of(response), route
    assert fingerprint(session) == before


def test_a_client_sees_only_what_is_shared_with_their_own_account(app, pages, session, sweep):
    before = fingerprint(session)
    client = sweep["client"]
    for side in ("A", "B"):
        for route in routes(app, sweep, side, portal=True):
            if route.method != "GET":
                continue
            log_in_client(pages, session, client)
            response = pages.get(route.url)
            assert_answer_is_sane(pages, response, route)
            assert not shows(text_of(response), HIDDEN), f"{route} shows a hidden object"
            if route.has_ids and side == "B":
                assert response.status_code == 404, route
            if route.endpoint == "portal.project":
                # A's plain project is shared but lies outside the account's node: not the client's.
                assert response.status_code == 404, route
    log_in_client(pages, session, client)
    home = pages.get("/portal/")
    assert home.status_code == 200 and shows(text_of(home), SEEN)
    assert_answer_is_sane(pages, home, "/portal/")
    own = pages.get(f"/portal/projects/{sweep['A']['deal'].project_id}")
    assert own.status_code == 200 and shows(text_of(own), SEEN)
    assert_answer_is_sane(pages, own, "the client's project")
    assert pages.get(f"/portal/documents/{sweep['A']['document'].id}/download").status_code in (200, 404)
    assert fingerprint(session) == before


def test_garbage_in_the_portals_forms_is_no_server_error(app, pages, session, sweep, backend):
    if backend != "sqlite":
        pytest.skip("one backend is enough for the fuzzing sweep")
    forms = {"/portal/login": ("email", "password", "next"), "/portal/locale": ("locale", "next"),
             f"/portal/welcome/{sweep['A']['portal token']}": ("password", "confirm")}
    for path, names in forms.items():
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.fixed_dictionaries({name: garbage for name in names}))
        def check(data):
            response = pages.client.post(path, data={**data, "csrf_token": portal_csrf(pages)})
            assert_answer_is_sane(pages, response, f"{path} {data!r:.200}")

        check()
