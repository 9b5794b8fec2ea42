"""MS Project's resources and assignments in MSPDI files, read into and written from the neutral resources.

* ``Resource``: ``UID``; ``Code`` (else ``Name``) the code the pool matches on, ``Name``; ``Type`` 0 material,
  1 work (labour; crmpm writes ``Group`` ``Nonlabor`` for non-labour, which Project lacks), 2 cost (read as
  material); ``MaxUnits`` (1 is 100 %); ``StandardRate`` per hour and its ``Rates`` (rate table A, from
  ``RatesFrom`` on); ``CalendarUID`` its calendar; ``MaterialLabel`` a material's unit. A generic resource
  (``IsGeneric`` 1) is a role. Resource UID 0, Project's blank row, is no resource.
* ``Assignment``: ``TaskUID``, ``ResourceUID``; ``Work`` (budgeted units, hours), ``ActualWork``,
  ``RemainingWork``; ``Cost`` (budgeted), ``ActualCost``, ``RemainingCost`` in cents as Project writes money;
  ``Start``, ``Finish``, ``ActualStart``, ``ActualFinish``; ``Units`` per hour; ``WorkContour`` (0 flat, 1 back
  loaded, 2 front loaded, 6 bell; others read as flat, with a warning).

A resource-dependent activity's primary resource goes in crmpm's own task field (``primary_resource`` = the
resource's UID), since Project has no such thing.
"""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from wbs.interchange.model import ExchangeAssignment, ExchangeRate, ExchangeResource, ExchangeResources, ExchangeRole
from wbs.interchange.mspdi.common import format_date, format_duration, format_money, format_number

__all__ = ["read_resources", "write_resources", "resource_uids", "PRIMARY_RESOURCE"]

PRIMARY_RESOURCE = "primary_resource"
NONLABOR_GROUP = "Nonlabor"
ZERO = Decimal("0.00")
CONTOURS = {0: "uniform", 1: "back_loaded", 2: "front_loaded", 6: "bell"}
CONTOUR_CODES = {value: key for key, value in CONTOURS.items()}
_TIME_BEGINS = _dt.datetime(1984, 1, 1)  # Project's first rate starts here
_TIME_ENDS = "2049-12-31T23:59:00"


def read_resources(doc, reader, calendars: dict, task_ids: dict[int, str], warnings: list[str]) -> ExchangeResources:
    """The file's resources (generic ones as roles), their calendars among ``calendars``, and the assignments
    to the activities ``task_ids`` (task UID → activity id)."""
    root = doc.root
    resources, roles, kinds = [], [], {}
    used_calendars = {}
    for element in doc.children(doc.child(root, "Resources"), "Resource"):
        uid = reader.int(element, "UID", "Resource")
        name = (doc.text(element, "Name") or "").strip()
        if uid is None or uid <= 0 or not name:
            continue
        code = (doc.text(element, "Code") or name).strip()
        rates = _rates(doc, reader, element, uid)
        if reader.flag(element, "IsGeneric"):
            roles.append(ExchangeRole(id=str(uid), code=code, name=name, rates=rates))
            kinds[uid] = "role"
            continue
        kind = reader.int(element, "Type", "Resource", uid, 1)
        if kind == 1:
            kind = "nonlabor" if (doc.text(element, "Group") or "").lower() == NONLABOR_GROUP.lower() else "labor"
        else:
            kind = "material"
        calendar = reader.int(element, "CalendarUID", "Resource", uid, -1)
        calendar = str(calendar) if calendar is not None and str(calendar) in calendars else None
        if calendar is not None:
            used_calendars[calendar] = calendars[calendar]
        resources.append(ExchangeResource(
            id=str(uid), code=code, name=name, type=kind, calendar_id=calendar,
            max_units_per_hour=reader.number(element, "MaxUnits", "Resource", uid, 1.0),
            unit_of_measure=(doc.text(element, "MaterialLabel") or "") if kind == "material" else "",
            rates=rates))
        kinds[uid] = "resource"
    assignments, contours = [], set()
    for element in doc.children(doc.child(root, "Assignments"), "Assignment"):
        uid = reader.int(element, "UID", "Assignment")
        task = reader.int(element, "TaskUID", "Assignment", uid)
        resource = reader.int(element, "ResourceUID", "Assignment", uid)
        if task not in task_ids or resource not in kinds:
            continue
        contour = reader.int(element, "WorkContour", "Assignment", uid, 0)
        if contour not in CONTOURS:
            contours.add(contour)

        def money(name):
            return reader.money(element, name, "Assignment", uid) or ZERO

        def hours(name):
            return reader.duration(element, name, "Assignment", uid, 0.0)

        def when(name):
            return reader.date(element, name, "Assignment", uid)

        assignments.append(ExchangeAssignment(
            id=str(uid), activity_id=task_ids[task],
            resource_id=str(resource) if kinds[resource] == "resource" else None,
            role_id=str(resource) if kinds[resource] == "role" else None,
            budgeted_units=hours("Work"), actual_units=hours("ActualWork"), remaining_units=hours("RemainingWork"),
            units_per_hour=reader.number(element, "Units", "Assignment", uid, 1.0), budgeted_cost=money("Cost"),
            actual_cost=money("ActualCost"), remaining_cost=money("RemainingCost"),
            rate_source="resource" if kinds[resource] == "resource" else "role", start=when("Start"),
            finish=when("Finish"), actual_start=when("ActualStart"), actual_finish=when("ActualFinish"),
            curve=CONTOURS.get(contour, "uniform")))
    if contours:
        warnings.append(f"work contours {', '.join(map(str, sorted(contours)))} are read as flat")
    return ExchangeResources(resources=resources, roles=roles, assignments=assignments, calendars=used_calendars)


def _rates(doc, reader, element, uid) -> tuple[ExchangeRate, ...]:
    found = {}
    for rate in doc.children(doc.child(element, "Rates"), "Rate"):
        if reader.int(rate, "RateTable", "Resource", uid, 0) != 0:
            continue
        start = reader.date(rate, "RatesFrom", "Resource", uid) or _TIME_BEGINS
        price = reader.number(rate, "StandardRate", "Resource", uid, 0.0)
        found[start.date()] = ExchangeRate(effective_from=start.date(), price_per_unit=_price(price))
    if not found:
        price = reader.number(element, "StandardRate", "Resource", uid, 0.0)
        if price:
            found[_TIME_BEGINS.date()] = ExchangeRate(effective_from=_TIME_BEGINS.date(), price_per_unit=_price(price))
    return tuple(found[day] for day in sorted(found))


def _price(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.01"))


def resource_uids(resources: ExchangeResources) -> dict[tuple[str, str], int]:
    """The UID each resource (``("resource", id)``) and role (``("role", id)``) gets: 1, 2, … in that order."""
    keys = [("resource", r.id) for r in resources.resources] + [("role", r.id) for r in resources.roles]
    return {key: uid for uid, key in enumerate(keys, 1)}


def _sub(parent, name, value=None):
    element = ET.SubElement(parent, name)
    if value is not None:
        element.text = str(value)
    return element


def _write_rates(element, rates) -> None:
    if not rates:
        return
    parent = _sub(element, "Rates")
    for number, rate in enumerate(rates):
        entry = _sub(parent, "Rate")
        _sub(entry, "RatesFrom", format_date(_dt.datetime.combine(rate.effective_from, _dt.time())))
        following = rates[number + 1] if number + 1 < len(rates) else None
        _sub(entry, "RatesTo", format_date(_dt.datetime.combine(following.effective_from, _dt.time()))
             if following else _TIME_ENDS)
        _sub(entry, "RateTable", 0)
        _sub(entry, "StandardRate", str(rate.price_per_unit))
        _sub(entry, "StandardRateFormat", 2)


def write_resources(root: ET.Element, resources: ExchangeResources, task_uids: dict[str, int],
                    calendar_uids: dict[str, int]) -> None:
    """``Resources`` and ``Assignments`` after the file's ``Tasks`` (``task_uids``: activity id → task UID)."""
    if not resources:
        return
    uids = resource_uids(resources)
    parent = _sub(root, "Resources")
    for resource in resources.resources:
        element = _sub(parent, "Resource")
        _sub(element, "UID", uids[("resource", resource.id)])
        _sub(element, "ID", uids[("resource", resource.id)])
        _sub(element, "Name", resource.name)
        _sub(element, "Type", 0 if resource.type == "material" else 1)
        _sub(element, "IsNull", 0)
        if resource.type == "material" and resource.unit_of_measure:
            _sub(element, "MaterialLabel", resource.unit_of_measure)
        _sub(element, "Code", resource.code)
        if resource.type == "nonlabor":
            _sub(element, "Group", NONLABOR_GROUP)
        _sub(element, "MaxUnits", format_number(resource.max_units_per_hour))
        _sub(element, "StandardRate", str(resource.rates[-1].price_per_unit) if resource.rates else "0")
        _sub(element, "StandardRateFormat", 2)
        _sub(element, "CalendarUID", calendar_uids.get(resource.calendar_id, -1) if resource.calendar_id else -1)
        _sub(element, "IsGeneric", 0)
        _write_rates(element, resource.rates)
    for role in resources.roles:
        element = _sub(parent, "Resource")
        _sub(element, "UID", uids[("role", role.id)])
        _sub(element, "ID", uids[("role", role.id)])
        _sub(element, "Name", role.name)
        _sub(element, "Type", 1)
        _sub(element, "IsNull", 0)
        _sub(element, "Code", role.code)
        _sub(element, "StandardRate", str(role.rates[-1].price_per_unit) if role.rates else "0")
        _sub(element, "StandardRateFormat", 2)
        _sub(element, "IsGeneric", 1)
        _write_rates(element, role.rates)
    parent = _sub(root, "Assignments")
    for number, a in enumerate(resources.assignments, 1):
        if a.activity_id not in task_uids:
            continue
        element = _sub(parent, "Assignment")
        _sub(element, "UID", number)
        _sub(element, "TaskUID", task_uids[a.activity_id])
        _sub(element, "ResourceUID", uids[("resource", a.resource_id)] if a.resource_id else uids[("role", a.role_id)])
        if a.actual_start is not None:
            _sub(element, "ActualStart", format_date(a.actual_start))
        if a.actual_finish is not None:
            _sub(element, "ActualFinish", format_date(a.actual_finish))
        _sub(element, "ActualWork", format_duration(a.actual_units))
        _sub(element, "ActualCost", format_money(a.actual_cost))
        _sub(element, "Cost", format_money(a.budgeted_cost))
        if a.start is not None:
            _sub(element, "Start", format_date(a.start))
        if a.finish is not None:
            _sub(element, "Finish", format_date(a.finish))
        _sub(element, "RemainingWork", format_duration(a.remaining_units))
        _sub(element, "RemainingCost", format_money(a.remaining_cost))
        _sub(element, "Units", format_number(a.units_per_hour))
        _sub(element, "Work", format_duration(a.budgeted_units))
        _sub(element, "WorkContour", CONTOUR_CODES.get(a.curve, 0))
