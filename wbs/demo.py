"""Demo plans on two demo projects: a WBS, activities with logic and lags, a calendar, milestones, progress.

NVS-DOCK was scheduled (which set its baseline) at its start, then progressed to the data date and
re-estimated (the cabinets' manufacturing slipped) without being scheduled again: pressing Schedule
moves its dates. TVT-ERP has progress but was never scheduled.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from eps.models import Project
from wbs import services
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity, WbsElement
from wbs.resources import services as pool

HOURS_PER_DAY = 8
# Monday to Friday, 08:00–12:00 and 13:00–17:00.
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
HOLIDAYS = [date(2026, 11, 4), date(2026, 12, 31), *(date(2027, 1, d) for d in range(1, 9)), date(2027, 2, 23),
            date(2027, 3, 8), date(2027, 5, 1), date(2027, 5, 9)]

# WBS: code, name, parent code
DOCK_WBS = [
    ("DOCK", "Dock automation", None),
    ("DOCK.1", "Project management", "DOCK"),
    ("DOCK.2", "Engineering", "DOCK"),
    ("DOCK.3", "Procurement", "DOCK"),
    ("DOCK.4", "Installation", "DOCK"),
    ("DOCK.5", "Control software", "DOCK"),
    ("DOCK.6", "Commissioning", "DOCK"),
    ("DOCK.7", "Closeout", "DOCK"),
]
# Activities: WBS code, code, name, duration in days (None: a milestone), budget weight,
# predecessors as (code, type, lag in days).
DOCK_ACTIVITIES = [
    ("DOCK.1", "A1000", "Kick-off meeting", "start", 0, []),
    ("DOCK.1", "A1010", "Project management plan", 5, 3, [("A1000", "FS", 0)]),
    ("DOCK.2", "A2000", "Site survey of the dock", 5, 4, [("A1010", "FS", 0)]),
    ("DOCK.2", "A2010", "Control system design", 15, 9, [("A2000", "FS", 0)]),
    ("DOCK.2", "A2020", "Electrical design", 10, 6, [("A2010", "SS", 5)]),
    ("DOCK.2", "A2030", "Design review with the client", 2, 1, [("A2010", "FS", 0), ("A2020", "FS", 0)]),
    ("DOCK.2", "A2040", "Design approved", "finish", 0, [("A2030", "FS", 0)]),
    ("DOCK.3", "A3000", "Order PLCs and drives", 3, 10, [("A2040", "FS", 0)]),
    ("DOCK.3", "A3010", "Order sensors and cabling", 2, 6, [("A2040", "FS", 0)]),
    ("DOCK.3", "A3020", "Manufacture control cabinets", 20, 12, [("A3000", "FS", 2)]),
    ("DOCK.3", "A3030", "Delivery to the dock", 5, 2, [("A3020", "FS", 0), ("A3010", "FS", 10)]),
    ("DOCK.4", "A4000", "Cable routing", 10, 5, [("A2040", "FS", 5)]),
    ("DOCK.4", "A4010", "Install control cabinets", 5, 4, [("A3030", "FS", 0)]),
    ("DOCK.4", "A4020", "Install sensors", 8, 4, [("A4000", "SS", 3), ("A3030", "FS", 0)]),
    ("DOCK.4", "A4030", "Terminations and loop checks", 6, 3, [("A4010", "FS", 0), ("A4020", "FF", 2)]),
    ("DOCK.5", "A5000", "PLC programming", 20, 8, [("A2040", "FS", 0)]),
    ("DOCK.5", "A5010", "Operator screens (HMI)", 12, 4, [("A5000", "SS", 5)]),
    ("DOCK.5", "A5020", "Factory acceptance test", 4, 2, [("A5000", "FS", 0), ("A5010", "FS", 0)]),
    ("DOCK.6", "A6000", "Cold commissioning", 5, 3, [("A4030", "FS", 0), ("A5020", "FS", 0)]),
    ("DOCK.6", "A6010", "Hot commissioning", 8, 4, [("A6000", "FS", 0)]),
    ("DOCK.6", "A6020", "Site acceptance test", 3, 2, [("A6010", "FS", 0)]),
    ("DOCK.6", "A6030", "Operator training", 4, 2, [("A6010", "SS", 4)]),
    ("DOCK.6", "A6040", "Handover to the client", "finish", 0, [("A6020", "FS", 0), ("A6030", "FS", 0)]),
    ("DOCK.7", "A7000", "As-built documentation", 6, 2, [("A6020", "FS", 0)]),
    ("DOCK.7", "A7010", "Project closed", "finish", 0, [("A7000", "FS", 0), ("A6040", "FS", 1)]),
]
# Progress at the data date: code → percent complete (100: finished), with a slip of the actual finish in days.
DOCK_PROGRESS = {"A1000": (100, 0), "A1010": (100, 1), "A2000": (100, 0), "A2010": (100, 2), "A2020": (100, 0),
                 "A2030": (100, 0), "A2040": (100, 0), "A3000": (100, 0), "A3010": (100, 0), "A4000": (100, 1),
                 "A5010": (100, 0), "A3020": (55, 0), "A5000": (70, 0), "A4020": (20, 0)}
DOCK_SLIPPED = {"A3020": 25}  # the cabinets' manufacturer needs five more days

COST_OVERRUNS = (Decimal("1.04"), Decimal("1.12"), Decimal("0.97"), Decimal("1.08"), Decimal("1.00"))

ERP_WBS = [
    ("ERP", "ERP rollout", None),
    ("ERP.1", "Analysis", "ERP"),
    ("ERP.2", "Configuration", "ERP"),
    ("ERP.3", "Data migration", "ERP"),
    ("ERP.4", "Training and go-live", "ERP"),
]
ERP_ACTIVITIES = [
    ("ERP.1", "E100", "Project charter signed", "start", 0, []),
    ("ERP.1", "E110", "Business process workshops", 10, 8, [("E100", "FS", 0)]),
    ("ERP.1", "E120", "Fit-gap analysis", 8, 6, [("E110", "SS", 4)]),
    ("ERP.1", "E130", "Solution blueprint", 6, 5, [("E120", "FS", 0)]),
    ("ERP.2", "E200", "Finance module setup", 15, 9, [("E130", "FS", 0)]),
    ("ERP.2", "E210", "Procurement and inventory setup", 12, 8, [("E130", "FS", 2)]),
    ("ERP.2", "E220", "Reports and print forms", 10, 5, [("E200", "SS", 5)]),
    ("ERP.2", "E230", "Integration with the bank", 8, 4, [("E200", "FS", 0)]),
    ("ERP.3", "E300", "Legacy data extraction", 6, 3, [("E130", "FS", 0)]),
    ("ERP.3", "E310", "Data cleansing", 8, 4, [("E300", "FS", 0)]),
    ("ERP.3", "E320", "Trial migration", 4, 3, [("E310", "FS", 0), ("E210", "FS", 0)]),
    ("ERP.4", "E400", "Key user training", 5, 3, [("E220", "FS", 0), ("E320", "SS", 2)]),
    ("ERP.4", "E410", "User acceptance test", 6, 4, [("E230", "FS", 0), ("E400", "FS", 0)]),
    ("ERP.4", "E420", "Final migration and cutover", 3, 3, [("E410", "FS", 1)]),
    ("ERP.4", "E430", "Go-live", "finish", 0, [("E420", "FS", 0)]),
]
ERP_PROGRESS = {"E100": (100, 0), "E110": (100, 2), "E120": (100, 0), "E130": (60, 0), "E300": (30, 0)}


def load(session: Session, *, admin, people, teams) -> None:
    """Give NVS-DOCK and TVT-ERP their plans (the administrator acting)."""
    projects = {p.code: p for p in session.scalars(select(Project).where(Project.code.in_(("NVS-DOCK", "TVT-ERP"))))}
    if "NVS-DOCK" in projects:
        dock = projects["NVS-DOCK"]
        _plan(session, admin, dock, DOCK_WBS, DOCK_ACTIVITIES, start=datetime(2026, 9, 1, 8),
              total=Decimal("7800000.00"))
        scheduling_service.schedule_project(session, actor=admin, project=dock)  # sets the baseline
        data_date = datetime(2026, 11, 23, 8)
        _progress(session, admin, dock, DOCK_PROGRESS, data_date)
        for code, days in DOCK_SLIPPED.items():
            activity = _activity(session, dock, code)
            services.update_activity(session, actor=admin, project=dock, activity=activity,
                                     original_duration_hours=float(days * HOURS_PER_DAY),
                                     remaining_duration_hours=float(round(days * 0.45) * HOURS_PER_DAY))
        services.update_plan(session, actor=admin, project=dock, data_date=data_date)
    if "TVT-ERP" in projects:
        erp = projects["TVT-ERP"]
        start = datetime(2026, 10, 1, 8)
        _plan(session, admin, erp, ERP_WBS, ERP_ACTIVITIES, start=start, total=Decimal("4200000.00"))
        # Never scheduled: the progress is dated from the plan's intended dates.
        _progress(session, admin, erp, ERP_PROGRESS, datetime(2026, 11, 23, 8), starts=_erp_starts(start))
        services.update_plan(session, actor=admin, project=erp, data_date=datetime(2026, 11, 23, 8))
    if projects:
        _pool(session, admin, people, list(projects.values()))


def _plan(session: Session, admin, project: Project, wbs: list, activities: list, *, start: datetime,
          total: Decimal) -> None:
    calendar = services.create_calendar(session, actor=admin, project=project, name=f"{project.code} 5×8",
                                        week=WEEK, exceptions={day: [] for day in HOLIDAYS},
                                        hours_per_day=HOURS_PER_DAY)
    services.update_plan(session, actor=admin, project=project, planned_start=start, data_date=start,
                         default_calendar_id=calendar.id)
    elements = {}
    for seq, (code, name, parent) in enumerate(wbs, 1):
        elements[code] = services.create_element(session, actor=admin, project=project, code=code, name=name,
                                                 parent=elements.get(parent), seq=seq * 10)
    weights = sum(weight for *_rest, weight, _preds in activities)
    costs = [(total * weight / weights).quantize(Decimal("1000"), ROUND_HALF_UP) for *_rest, weight, _p in activities]
    costs[costs.index(max(costs))] += total - sum(costs)  # the rounding goes to the biggest item
    created = {}
    for (element, code, name, days, _weight, _preds), cost in zip(activities, costs):
        kind = {"start": "start_milestone", "finish": "finish_milestone"}.get(days, "task")
        created[code] = services.create_activity(
            session, actor=admin, project=project, code=code, name=name, type=kind,
            wbs_element_id=elements[element].id,
            original_duration_hours=0.0 if kind != "task" else float(days * HOURS_PER_DAY),
            budgeted_cost=cost.quantize(Decimal("0.01")))
    for _element, code, _name, _days, _weight, preds in activities:
        for predecessor, type_, lag in preds:
            services.create_relationship(session, actor=admin, project=project, predecessor=created[predecessor],
                                         successor=created[code], type=type_, lag_hours=float(lag * HOURS_PER_DAY))


def _activity(session: Session, project: Project, code: str) -> Activity:
    return session.scalar(select(Activity).where(Activity.project_id == project.id, Activity.code == code))


def _erp_starts(start: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Working-day dates of TVT-ERP's first activities, as the team planned them."""
    def day(n: int, hour: int = 8) -> datetime:
        current = start
        while n:
            current += timedelta(days=1)
            if current.weekday() < 5 and current.date() not in HOLIDAYS:
                n -= 1
        return current.replace(hour=hour)
    return {"E100": (day(0), day(0)), "E110": (day(0), day(11, 17)), "E120": (day(4), day(12, 17)),
            "E130": (day(13), None), "E300": (day(13), None)}


def _progress(session: Session, admin, project: Project, progress: dict, data_date: datetime, *,
              starts: dict | None = None) -> None:
    """Actual dates, percentages and costs up to ``data_date`` (costs a little over the earned budget, as usual)."""
    activities = {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == project.id))}
    for index, (code, (percent, slip)) in enumerate(progress.items()):
        activity = activities[code]
        if starts is not None:
            actual_start, finish = starts[code]
        else:
            actual_start, finish = activity.early_start, activity.early_finish
        overrun = COST_OVERRUNS[index % len(COST_OVERRUNS)]
        cost = (activity.budgeted_cost * Decimal(percent) / 100 * overrun).quantize(Decimal("0.01"))
        changes = {"actual_start": actual_start, "percent_complete": float(percent), "actual_cost": cost}
        if percent == 100:
            finish = finish + timedelta(days=slip)
            changes["actual_finish"] = min(finish, data_date - timedelta(hours=15))
            changes["remaining_duration_hours"] = 0.0
        else:
            days = activity.original_duration_hours / HOURS_PER_DAY
            changes["remaining_duration_hours"] = float(round(days * (100 - percent) / 100) * HOURS_PER_DAY)
        services.update_activity(session, actor=admin, project=project, activity=activity, **changes)


# The resource pool: roles and rates, people (Pavel is the PM user), a crew and the materials of the plans.
RATE = Decimal("2500.00")
DEMO_ROLES = [("PM", "Project manager", "3000.00"), ("CTRL", "Control systems engineer", "2500.00"),
              ("ERP", "ERP consultant", "2500.00"), ("COMM", "Commissioning engineer", "2200.00")]
# code, name, type, max units per hour, role, user e-mail
DEMO_RESOURCES = [("P.MOROZOV", "Pavel Morozov", "labor", 1.0, "PM", "pm@crmpm.local"),
                  ("D.ORLOV", "Dmitry Orlov", "labor", 1.0, "CTRL", None),
                  ("E.LEBEDEVA", "Elena Lebedeva", "labor", 1.0, "ERP", None),
                  ("COMM-CREW", "Commissioning crew", "labor", 3.0, "COMM", None),
                  ("MATERIALS", "Equipment and materials", "material", 1.0, None, None)]
# Who works on what (activities not yet started): WBS code → resource code.
DEMO_WORK = {"DOCK.2": "D.ORLOV", "DOCK.5": "D.ORLOV", "DOCK.6": "COMM-CREW", "DOCK.7": "P.MOROZOV",
             "ERP.2": "E.LEBEDEVA", "ERP.3": "E.LEBEDEVA", "ERP.4": "E.LEBEDEVA"}


def _pool(session: Session, admin, people, projects: list[Project]) -> None:
    """The demo pool, and assignments on the work still to do: a person full time at 2,500 an hour, the rest
    of each activity's budget as equipment and materials, so every activity keeps the cost it was planned at.
    The capacity page shows NVS-DOCK's bookings week by week; TVT-ERP's assignments have dates (and book hours)
    once the project is scheduled."""
    roles = {code: pool.create_role(session, actor=admin, code=code, name=name,
                                    rates=[{"effective_from": date(2026, 1, 1), "price_per_unit": Decimal(price)}])
             for code, name, price in DEMO_ROLES}
    resources = {}
    for code, name, kind, max_units, role, email in DEMO_RESOURCES:
        price = RATE if kind == "labor" else Decimal("1.00")
        resources[code] = pool.create_resource(
            session, actor=admin, code=code, name=name, type=kind, max_units_per_hour=max_units,
            user_id=people[email].id if email else None, unit_of_measure="" if kind == "labor" else "RUB",
            rates=[{"effective_from": date(2026, 1, 1), "price_per_unit": price}],
            roles=[{"role_id": roles[role].id, "proficiency": 2}] if role else [])
    for project in projects:
        rows = session.execute(select(Activity, WbsElement.code).join(WbsElement, Activity.wbs_element_id == WbsElement.id)
                               .where(Activity.project_id == project.id, Activity.type == "task",
                                      Activity.actual_start.is_(None)).order_by(Activity.code)).all()
        for activity, element in rows:
            person = resources.get(DEMO_WORK.get(element))
            cost, hours = activity.budgeted_cost, float(activity.original_duration_hours)
            labour = Decimal(repr(hours)) * RATE
            if person is None or not hours or labour > cost:
                continue
            pool.create_assignment(session, actor=admin, project=project, activity=activity,
                                   resource_id=person.id, units_per_hour=1.0, budgeted_units=hours)
            if cost > labour:
                pool.create_assignment(session, actor=admin, project=project, activity=activity,
                                       resource_id=resources["MATERIALS"].id, units_per_hour=0.0,
                                       budgeted_units=float(cost - labour))
