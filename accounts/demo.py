"""Demo CRM on top of the demo EPS: accounts on the client nodes, contacts, pipelines, deals on the existing
projects and new ones, interactions, tasks, satisfaction answers, a routing rule and leads."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from eps.models import EpsNode, Project

from accounts import activities, deals, leads, pipelines, routing, services
from accounts.models import AccountKind, Direction, InteractionKind, SurveyKind


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


# node code, name, INN, kind, sector, segment, owner
ACCOUNTS = [
    ("MSK-TVT", "Tverskaya Tech", "7708123450", AccountKind.client, "IT services", "mid-market", "am@crmpm.local"),
    ("SPB-NVS", "Neva Shipyards", "7810345670", AccountKind.client, "Shipbuilding", "enterprise", "am@crmpm.local"),
    ("SPB-BLT", "Baltic Logistics", "7842567890", AccountKind.client, "Logistics", "mid-market", "am@crmpm.local"),
    ("KRD-KBA", "Kuban Agro", "2310123454", AccountKind.client, "Agriculture", "enterprise", "am2@crmpm.local"),
]

# account, first name, last name, title, email, phone
CONTACTS = [
    ("MSK-TVT", "Sergey", "Orlov", "CIO", "s.orlov@tvtech.example", "+7 495 111-22-33"),
    ("MSK-TVT", "Marina", "Lebedeva", "Procurement", "m.lebedeva@tvtech.example", "8 (495) 111-22-34"),
    ("SPB-NVS", "Dmitry", "Volkov", "Chief engineer", "d.volkov@nevaship.example", "+7 812 555-01-01"),
    ("SPB-NVS", "Elena", "Popova", "CFO", "e.popova@nevaship.example", "+7 812 555-01-02"),
    ("SPB-BLT", "Andrey", "Smirnov", "Operations director", "a.smirnov@baltlog.example", "+7 812 777-40-40"),
    ("KRD-KBA", "Oksana", "Kovalenko", "Head of agronomy", "o.kovalenko@kubagro.example", "+7 861 200-30-40"),
]


# Deals on the projects the EPS already runs (most won earlier): project, account, stage, amount, created,
# closed, owner, product.
EXISTING_DEALS = [
    ("TVT-ERP", "MSK-TVT", "Won", "4500000.00", "2026-01-20", "2026-03-02", "am@crmpm.local", "ERP"),
    ("NVS-DOCK", "SPB-NVS", "Won", "8000000.00", "2025-11-10", "2026-02-16", "am@crmpm.local", "Automation"),
    ("NVS-SCADA", "SPB-NVS", "Negotiation", "2700000.00", "2026-06-01", None, "am@crmpm.local", "SCADA"),
    ("BLT-WMS", "SPB-BLT", "Won", "3300000.00", "2026-02-05", "2026-04-20", "am@crmpm.local", "WMS"),
    ("KBA-IRR", "KRD-KBA", "Won", "2000000.00", "2026-03-15", "2026-05-25", "am2@crmpm.local", "Telemetry"),
]

# New deals in the funnel: code, account, name, stage, amount, expected close, product.
NEW_DEALS = [
    ("BLT-TEL", "SPB-BLT", "Baltic Logistics: fleet telematics", "Proposal", "1800000.00", date(2027, 1, 31),
     "Telemetry"),
    ("URS-MES", "MSK-URS", "Ural Steel: MES pilot", "Qualification", "950000.00", date(2027, 3, 15), "MES"),
    ("NMS-DOCK", "SPB-NMS", "Neva Marine: dry dock sensors", "Needs analysis", "600000.00", date(2027, 2, 10),
     "Automation"),
    ("TVT-BI", "MSK-TVT", "Tverskaya Tech: BI dashboards", "Qualification", "400000.00", date(2026, 12, 15), "BI"),
]

# account, contact email, deal, kind, direction, day, subject
TOUCHES = [
    ("MSK-TVT", "s.orlov@tvtech.example", "TVT-ERP", InteractionKind.meeting, Direction.outbound, "2026-02-10",
     "ERP scope workshop"),
    ("MSK-TVT", "m.lebedeva@tvtech.example", "TVT-ERP", InteractionKind.email, Direction.inbound, "2026-02-25",
     "Contract comments"),
    ("SPB-NVS", "d.volkov@nevaship.example", "NVS-SCADA", InteractionKind.call, Direction.outbound, "2026-06-20",
     "SCADA cabinets count"),
    ("SPB-NVS", "e.popova@nevaship.example", "NVS-SCADA", InteractionKind.letter, Direction.inbound,
     "2026-10-14", "Payment terms proposal"),
    ("SPB-BLT", "a.smirnov@baltlog.example", "BLT-TEL", InteractionKind.messenger, Direction.inbound,
     "2026-09-03", "Asked for a telematics offer"),
    ("KRD-KBA", "o.kovalenko@kubagro.example", "KBA-IRR", InteractionKind.web_form, Direction.inbound,
     "2026-03-10", "Irrigation telemetry request"),
]

# deal, title, due day
TASKS = [
    ("NVS-SCADA", "Send the revised SCADA offer", "2026-11-20"),
    ("BLT-TEL", "Demo the telematics dashboard", "2026-12-03"),
    ("NMS-DOCK", "Site survey at the dry dock", "2026-12-10"),
    ("URS-MES", "Qualification call with the plant director", "2026-12-01"),
]

# account, deal, survey, score, day
ANSWERS = [
    ("MSK-TVT", "TVT-ERP", SurveyKind.csat, 5, "2026-04-10"),
    ("SPB-NVS", "NVS-DOCK", SurveyKind.nps, 9, "2026-05-12"),
    ("SPB-BLT", "BLT-WMS", SurveyKind.csat, 4, "2026-06-01"),
    ("KRD-KBA", "KBA-IRR", SurveyKind.nps, 6, "2026-07-15"),
]


def load(session: Session, *, admin, people, teams) -> None:
    """Create the demo CRM under the administrator's name."""
    nodes = {node.code: node for node in session.scalars(select(EpsNode))}
    projects = {project.code: project for project in session.scalars(select(Project))}
    b2b = _pipelines(session, admin=admin)
    accounts = _accounts(session, admin=admin, people=people, nodes=nodes)
    contacts = _contacts(session, admin=admin, accounts=accounts)
    opened = _deals(session, admin=admin, people=people, accounts=accounts, projects=projects, pipeline=b2b)
    _activities(session, admin=admin, accounts=accounts, contacts=contacts, opened=opened)
    _routing_and_leads(session, admin=admin, people=people, teams=teams, nodes=nodes)


def _pipelines(session: Session, *, admin):
    """The two sales funnels; the B2B one, which the demo deals run through, is returned."""
    b2b = pipelines.create_pipeline(session, actor=admin, name="B2B projects", stages=[
        {"name": "Qualification", "probability": 10}, {"name": "Needs analysis", "probability": 25},
        {"name": "Proposal", "probability": 50}, {"name": "Negotiation", "probability": 75},
        {"name": "Won", "probability": 100, "kind": "won"}, {"name": "Lost", "probability": 0, "kind": "lost"}])
    pipelines.create_pipeline(session, actor=admin, name="Service contracts", stages=[
        {"name": "Discovery", "probability": 20}, {"name": "Offer", "probability": 60},
        {"name": "Signed", "probability": 100, "kind": "won"}, {"name": "Declined", "probability": 0, "kind": "lost"}])
    return b2b


def _accounts(session: Session, *, admin, people, nodes) -> dict:
    """The clients on their EPS nodes and two prospects in the regions, by code."""
    accounts = {}
    for code, name, inn, kind, sector, segment, owner in ACCOUNTS:
        accounts[code] = services.create_account(session, actor=admin, name=name, eps_node=nodes[code], tax_id=inn,
                                                 kind=kind, sector=sector, segment=segment, owner=people[owner])
    accounts["SPB-NMS"] = services.create_account(
        session, actor=admin, name="Neva Marine Service", region=nodes["SPB"], code="SPB-NMS", tax_id="7706543210",
        kind=AccountKind.prospect, sector="Ship repair", segment="mid-market", parent=accounts["SPB-NVS"],
        owner=people["am@crmpm.local"])
    accounts["MSK-URS"] = services.create_account(
        session, actor=admin, name="Ural Steel Trading", region=nodes["MSK"], code="MSK-URS", tax_id="5001122339",
        kind=AccountKind.prospect, sector="Metals", segment="enterprise", owner=people["am2@crmpm.local"])
    return accounts


def _contacts(session: Session, *, admin, accounts) -> dict:
    """The people at the clients, by email."""
    contacts = {}
    for code, first, last, title, email, phone in CONTACTS:
        contacts[email] = services.create_contact(session, actor=admin, account=accounts[code], first_name=first,
                                                  last_name=last, title=title, email=email, phone=phone)
    return contacts


def _deals(session: Session, *, admin, people, accounts, projects, pipeline) -> dict:
    """Deals on the existing projects and new ones moved along the funnel (one lost), by code."""
    stage = {s.name: s for s in pipeline.stages}
    opened = {}
    for code, account, stage_name, amount, created, closed, owner, product in EXISTING_DEALS:
        opened[code] = deals.create_deal(
            session, actor=admin, account=accounts[account], name=projects[code].name, pipeline=pipeline,
            stage=stage[stage_name], amount=Decimal(amount), owner=people[owner], product=product,
            project=projects[code], created_at=_at(created), closed_at=_at(closed) if closed else None,
            expected_close=date(2026, 12, 20) if closed is None else None)
    for code, account, name, stage_name, amount, close, product in NEW_DEALS:
        owner = accounts[account].owner
        deal = deals.create_deal(session, actor=admin, account=accounts[account], name=name, pipeline=pipeline,
                                 stage=stage["Qualification"], amount=Decimal(amount), owner=owner, product=product,
                                 code=code, expected_close=close, created_at=_at("2026-09-01"))
        if stage_name != "Qualification":
            deals.move_stage(session, actor=admin, deal=deal, stage=stage[stage_name], at=_at("2026-10-05"))
        opened[code] = deal
    deals.move_stage(session, actor=admin, deal=opened["TVT-BI"], stage=stage["Lost"],
                     lost_reason="Chose an in-house team", at=_at("2026-11-02"))
    return opened


def _activities(session: Session, *, admin, accounts, contacts, opened) -> None:
    """Interactions with the contacts, open tasks on the deals, satisfaction answers."""
    for account, email, deal, kind, direction, day, subject in TOUCHES:
        activities.create_interaction(session, actor=admin, account=accounts[account], contact=contacts[email],
                                      deal=opened[deal], kind=kind, direction=direction, occurred_at=_at(day),
                                      subject=subject, user=accounts[account].owner)
    for code, title, due in TASKS:
        deal = opened[code]
        activities.create_task(session, actor=admin, title=title, due_at=_at(due), deal=deal,
                               assignee=session.get(type(admin), deal.owner_id))
    for account, deal, kind, score, day in ANSWERS:
        activities.record_answer(session, actor=admin, account=accounts[account], deal=opened[deal], kind=kind,
                                 score=score, answered_at=_at(day))


def _routing_and_leads(session: Session, *, admin, people, teams, nodes) -> None:
    """The branches' routing rule, a lead from an existing client (routed) and a new one (waiting)."""
    working = {"work_start_hour": 9, "work_end_hour": 18, "work_days": [1, 2, 3, 4, 5], "timezone": "Europe/Moscow"}
    routing.create_rule(session, actor=admin, name="Sales: branches", team=teams["Sales"], capacity=10, members=[
        {"user_id": people["am@crmpm.local"].id, "territories": [nodes["MSK"].id, nodes["SPB"].id], **working},
        {"user_id": people["am2@crmpm.local"].id, "territories": [nodes["KRD"].id, nodes["MSK"].id], **working},
    ])
    repeat = leads.create_lead(session, actor=admin, region=nodes["SPB"], company="Neva Shipyards",
                               contact_name="Dmitry Volkov", email="d.volkov@nevaship.example", source="website",
                               channel="web_form", product="Automation", message="Second dock: same system?",
                               created_at=_at("2026-11-20"))
    # Routed when it came in (a working Friday in Moscow): it goes to the owner of the existing client.
    routing.route_lead(session, actor=None, lead=repeat, now=_at("2026-11-20"))
    leads.create_lead(session, actor=admin, region=nodes["KRD"], company="Taman Grain Terminal",
                      contact_name="Pavel Ivanov", phone="+7 861 300-00-01", source="exhibition", channel="call",
                      product="Telemetry", created_at=_at("2026-11-24") - timedelta(hours=3))
