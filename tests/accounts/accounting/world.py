"""A small world for the accounting exchange's tests: a tree, projects, a finance user, an outsider."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from accounts.billing.models import Invoice, InvoiceLine
from tests import factories
from wbs import services as wbs_services

D = Decimal


def build(session) -> dict:
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    east = factories.node(session, actor=admin, parent=root, code="EAST")
    west = factories.node(session, actor=admin, parent=root, code="WEST")
    p1 = factories.project(session, actor=admin, node=east, code="PRJ-1")
    p2 = factories.project(session, actor=admin, node=east, code="PRJ-2")
    p3 = factories.project(session, actor=admin, node=west, code="PRJ-3")
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=east, user=finance)
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role="viewer", target=east, user=viewer)
    outsider = factories.user(session)
    return {"admin": admin, "root": root, "east": east, "west": west, "p1": p1, "p2": p2, "p3": p3,
            "finance": finance, "viewer": viewer, "outsider": outsider}


def activity(session, world, project, code: str, actual: str):
    made = wbs_services.create_activity(session, actor=world["admin"], project=project, code=code, name=code)
    wbs_services.update_activity(session, actor=world["admin"], project=project, activity=made, actual_cost=D(actual))
    return made


def invoice(session, *, project, account, number: int | None, issue_date: date | None, status: str = "issued",
            act_date: date | None = None, lines=(("Design works", "1", "1000.00"),), vat_rate: str = "20.00",
            paid: str = "0.00", due_date: date | None = None) -> Invoice:
    """An invoice row with its lines, its figures computed here from the lines (no billing service needed)."""
    rate = D(vat_rate)
    made = Invoice(project_id=project.id, account_id=account.id, currency="RUB", status=status, source="manual",
                   year=issue_date.year if issue_date else None, number=number, issue_date=issue_date,
                   due_date=due_date, vat_rate=rate, act_date=act_date, paid_amount=D(paid),
                   issued_at=datetime(issue_date.year, issue_date.month, issue_date.day, 9, tzinfo=timezone.utc)
                   if issue_date else None)
    subtotal = vat = D("0.00")
    for position, (text, quantity, price) in enumerate(lines, start=1):
        amount = (D(quantity) * D(price)).quantize(D("0.01"))
        tax = (amount * rate / 100).quantize(D("0.01"))
        made.lines.append(InvoiceLine(position=position, description=text, unit="усл", quantity=D(quantity),
                                      unit_price=D(price), amount=amount, vat_amount=tax))
        subtotal, vat = subtotal + amount, vat + tax
    made.subtotal, made.vat_amount, made.total = subtotal, vat, subtotal + vat
    session.add(made)
    session.flush()
    return made
