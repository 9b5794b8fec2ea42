"""Demo EPS: an enterprise with three branches, client accounts, projects, grants and budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from eps import budgets, grants, services
from eps.models import Role

# code, name, parent code, protected
NODES = [
    ("ENT", "Enterprise", None, False),
    ("MSK", "Moscow branch", "ENT", False),
    ("SPB", "Saint Petersburg branch", "ENT", False),
    ("KRD", "Krasnodar branch", "ENT", False),
    ("MSK-TVT", "Tverskaya Tech (client)", "MSK", False),
    ("SPB-NVS", "Neva Shipyards (client)", "SPB", False),
    ("SPB-BLT", "Baltic Logistics (client)", "SPB", False),
    ("KRD-KBA", "Kuban Agro (client)", "KRD", False),
    ("INT", "Internal R&D", "ENT", True),
]

# code, name, node code, planned cost, actual cost
PROJECTS = [
    ("TVT-ERP", "Tverskaya Tech: ERP rollout", "MSK-TVT", "4200000.00", "1300000.00"),
    ("NVS-DOCK", "Neva Shipyards: dock automation", "SPB-NVS", "7800000.00", "2100000.00"),
    ("NVS-SCADA", "Neva Shipyards: SCADA upgrade", "SPB-NVS", "2500000.00", "0.00"),
    ("BLT-WMS", "Baltic Logistics: warehouse system", "SPB-BLT", "3100000.00", "900000.00"),
    ("KBA-IRR", "Kuban Agro: irrigation telemetry", "KRD-KBA", "1900000.00", "400000.00"),
    ("INT-AI", "Internal: forecasting research", "INT", "600000.00", "150000.00"),
]

BUDGETS = {
    "ENT": "30000000.00", "MSK": "6000000.00", "SPB": "15000000.00", "KRD": "3000000.00", "INT": "1000000.00",
    "MSK-TVT": "5000000.00", "SPB-NVS": "11000000.00", "SPB-BLT": "3500000.00", "KRD-KBA": "2500000.00",
    "TVT-ERP": "4500000.00", "NVS-DOCK": "8000000.00", "NVS-SCADA": "2700000.00", "BLT-WMS": "3300000.00",
    "KBA-IRR": "2000000.00", "INT-AI": "700000.00",
}


def load(session: Session, *, admin, people, teams) -> None:
    """Create the demo EPS under the administrator's name."""
    nodes = {}
    for code, name, parent, protected in NODES:
        nodes[code] = services.create_node(session, actor=admin, code=code, name=name,
                                           parent=nodes.get(parent), protected=protected)
    projects = {}
    for code, name, node, planned, actual in PROJECTS:
        project = services.create_project(session, actor=admin, code=code, name=name, eps_node=nodes[node])
        services.update_project(session, actor=admin, project=project, planned_cost=Decimal(planned),
                                actual_cost=Decimal(actual))
        projects[code] = project
    objects = {**nodes, **projects}
    # Top-down, so every parent has the room its children take.
    for code, amount in BUDGETS.items():
        budgets.set_original(session, actor=admin, obj=objects[code], amount=Decimal(amount))

    # Every sales person sees every client's history (a viewer grant at the top); each works on their branch.
    grants.create(session, actor=admin, role=Role.viewer, target=nodes["ENT"], team=teams["Sales"])
    grants.create(session, actor=admin, role=Role.editor, target=nodes["SPB"], user=people["am@crmpm.local"])
    grants.create(session, actor=admin, role=Role.editor, target=nodes["MSK"], user=people["am@crmpm.local"])
    grants.create(session, actor=admin, role=Role.editor, target=nodes["KRD"], user=people["am2@crmpm.local"])
    grants.create(session, actor=admin, role=Role.manager, target=nodes["SPB"], user=people["pm@crmpm.local"])
    grants.create(session, actor=admin, role=Role.manager, target=projects["TVT-ERP"],
                  user=people["pm@crmpm.local"])
    grants.create(session, actor=admin, role=Role.finance, target=nodes["ENT"], team=teams["Finance"])

    budgets.request_change(session, actor=people["pm@crmpm.local"], obj=projects["NVS-SCADA"],
                           amount=Decimal("300000.00"), reason="Extra PLC cabinets requested by the client")
    budgets.request_change(session, actor=people["finance@crmpm.local"], obj=nodes["KRD"],
                           amount=Decimal("1500000.00"), reason="Second irrigation phase expected in Q3")
    budgets.set_spending_plan(session, actor=admin, obj=nodes["SPB"], entries={
        date(2026, month, 1): Decimal("1200000.00") for month in range(1, 13)})
    budgets.set_spending_plan(session, actor=admin, obj=projects["NVS-DOCK"], entries={
        date(2026, month, 1): Decimal("650000.00") for month in range(1, 13)})
