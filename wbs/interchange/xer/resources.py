"""P6's resource tables in XER files, read into and written from the neutral resources.

Read (:func:`read_resources`):

* ``RSRC``: ``rsrc_short_name`` is the code the pool matches on, ``rsrc_name`` the name, ``parent_rsrc_id`` the
  hierarchy, ``rsrc_type`` (``RT_Labor``, ``RT_Equip``, ``RT_Mat``: labor, nonlabor, material), ``clndr_id`` its
  calendar, ``def_qty_per_hr`` its default units per hour, ``unit_id`` its unit of measure (``UMEASURE``),
  ``active_flag``;
* ``RSRCRATE`` / ``ROLERATE``: a price per unit (``cost_per_qty``) and units per hour available
  (``max_qty_per_hr``) from ``start_date`` on; the resource's max units per hour are its last rate's;
* ``ROLES`` (``ROLE`` in some exports): ``role_short_name`` the code, ``parent_role_id`` the hierarchy;
  ``RSRCROLE`` a resource's roles with their ``skill_level`` (1 the best to 5);
* ``TASKRSRC``: an assignment. Units ``target_qty`` (budgeted), ``act_reg_qty + act_ot_qty`` (actual),
  ``remain_qty`` (remaining), ``target_qty_per_hr``; costs ``target_cost``, ``act_reg_cost + act_ot_cost`` and
  ``remain_cost`` as the file writes them (P6's own figures, exact decimals); dates ``restart_date`` /
  ``reend_date`` (remaining), else ``target_start_date`` / ``target_end_date``, and ``act_start_date`` /
  ``act_end_date``; ``cost_per_qty_source_type`` (``ST_Rsrc``, ``ST_Role``, ``ST_Custom`` with its
  ``cost_per_qty``) the rate source; ``curv_id`` a curve of ``RSRCCURV`` by its name when it is one of the simple
  ones, else uniform (with a warning).

A TASKRSRC row of the generic cost resource this module writes for activities that have costs but no
assignments (:data:`GENERIC_COST_CODE`), or of a resource the file does not hold and no role, is no assignment:
its costs are the activity's own (``folded``), as before crmpm kept resources.

Written (:func:`resource_tables`, :func:`taskrsrc_line`): the same tables, read back to the same neutral values.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from wbs.interchange.model import (ExchangeAssignment, ExchangeRate, ExchangeResource, ExchangeResources,
                                   ExchangeRole)
from wbs.interchange.xer.reader import XerError, XerTable, parse_date, parse_number

__all__ = ["read_resources", "ReadResources", "resource_tables", "taskrsrc_line", "TASKRSRC_FIELDS",
           "GENERIC_COST_CODE", "generic_cost_line", "RESOURCE_TYPES", "CURVES"]

ZERO = Decimal("0.00")
# The resource that carries the costs of activities without assignments, so that they still round-trip.
GENERIC_COST_CODE = "CRMPM-COST"
GENERIC_COST_ID = "0"
RESOURCE_TYPES = {"RT_Labor": "labor", "RT_Equip": "nonlabor", "RT_Mat": "material"}
_RESOURCE_TYPE_CODES = {value: key for key, value in RESOURCE_TYPES.items()}
RATE_SOURCES = {"ST_Rsrc": "resource", "ST_Role": "role", "ST_Custom": "override"}
_RATE_SOURCE_CODES = {value: key for key, value in RATE_SOURCES.items()}
# P6's built-in curves whose shape crmpm keeps by name; others are read as uniform.
CURVES = {"linear": "uniform", "uniform": "uniform", "front loaded": "front_loaded", "back loaded": "back_loaded",
          "bell shaped": "bell", "bell": "bell"}
_CURVE_NAMES = {"front_loaded": "Front Loaded", "back_loaded": "Back Loaded", "bell": "Bell Shaped"}

RSRC_FIELDS = ("rsrc_id", "parent_rsrc_id", "clndr_id", "rsrc_seq_num", "rsrc_name", "rsrc_short_name",
               "def_qty_per_hr", "cost_qty_type", "active_flag", "unit_id", "rsrc_type")
RSRCRATE_FIELDS = ("rsrc_rate_id", "rsrc_id", "max_qty_per_hr", "cost_per_qty", "start_date")
ROLES_FIELDS = ("role_id", "parent_role_id", "seq_num", "role_name", "role_short_name", "cost_qty_type")
ROLERATE_FIELDS = ("role_rate_id", "role_id", "cost_per_qty", "start_date", "max_qty_per_hr")
RSRCROLE_FIELDS = ("rsrc_role_id", "rsrc_id", "role_id", "skill_level")
UMEASURE_FIELDS = ("unit_id", "unit_abbrev", "unit_name")
RSRCCURV_FIELDS = ("curv_id", "curv_name", "default_flag")
TASKRSRC_FIELDS = ("taskrsrc_id", "task_id", "proj_id", "rsrc_id", "role_id", "remain_qty", "target_qty",
                   "remain_qty_per_hr", "target_qty_per_hr", "act_reg_qty", "act_ot_qty", "cost_per_qty",
                   "target_cost", "act_reg_cost", "act_ot_cost", "remain_cost", "act_start_date", "act_end_date",
                   "restart_date", "reend_date", "target_start_date", "target_end_date", "rate_type",
                   "cost_per_qty_source_type", "curv_id", "rsrc_type")


@dataclass
class ReadResources:
    """What :func:`read_resources` found: the neutral resources, and per activity the costs of TASKRSRC rows
    that are no assignment (``folded``: task id → (budgeted, actual))."""

    resources: ExchangeResources
    folded: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


def _rows(xer, *names):
    for name in names:
        table = xer.tables.get(name)
        if table is not None:
            return table, table.rows
    return XerTable(names[0], []), []


def _money(text: str, table: str, line, column: str) -> Decimal:
    if not text:
        return ZERO
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise XerError(f"bad amount {text!r} in column {column}", table, line) from None
    if not value.is_finite():
        raise XerError(f"bad amount {text!r} in column {column}", table, line)
    return value


def _number(row, table, line, column, default=0.0) -> float:
    value = parse_number(row.get(column, ""), table.name, line, column)
    return default if value is None else value


def _line(table, index):
    return table.lines[index] if index < len(table.lines) else None


def _rates(table, rows, key: str, warnings: list[str], what: str) -> dict[str, tuple[ExchangeRate, ...]]:
    """Rate rows by owner (``key`` column), by day; two on one day keep the last, with a warning."""
    found: dict[str, dict[_dt.date, ExchangeRate]] = {}
    for index, row in enumerate(rows):
        line = _line(table, index)
        start = parse_date(row.get("start_date", ""), table.name, line, "start_date")
        day = start.date() if start is not None else _dt.date(1900, 1, 1)
        max_units = parse_number(row.get("max_qty_per_hr", ""), table.name, line, "max_qty_per_hr")
        rates = found.setdefault(row.get(key, ""), {})
        if day in rates:
            warnings.append(f"{what} {row.get(key, '')} has two rates from {day.isoformat()} (table {table.name}, "
                            f"line {line}); the last is kept")
        rates[day] = ExchangeRate(effective_from=day,
                                  price_per_unit=_money(row.get("cost_per_qty", ""), table.name, line, "cost_per_qty"),
                                  max_units_per_hour=max_units)
    return {owner: tuple(rates[day] for day in sorted(rates)) for owner, rates in found.items()}


def read_resources(xer, proj_id: str, activity_ids, calendars: dict, warnings: list[str]) -> ReadResources:
    """The file's resources and roles (all of them: the pool is the company's), and the assignments of project
    ``proj_id`` to its activities ``activity_ids``; ``calendars`` the file's parsed calendars by id."""
    units = {row.get("unit_id", ""): row.get("unit_abbrev") or row.get("unit_name") or ""
             for row in xer.rows("UMEASURE")}
    role_table, role_rows = _rows(xer, "ROLES", "ROLE")
    rate_table, rate_rows = _rows(xer, "ROLERATE")
    role_rates = _rates(rate_table, rate_rows, "role_id", warnings, "role")
    role_ids = {row.get("role_id", "") for row in role_rows}
    roles = []
    for index, row in enumerate(role_rows):
        code = (row.get("role_short_name") or row.get("role_name") or row.get("role_id") or "").strip()
        parent = row.get("parent_role_id") or None
        roles.append(ExchangeRole(
            id=row["role_id"], code=code, name=(row.get("role_name") or code).strip(),
            parent_id=parent if parent in role_ids and parent != row["role_id"] else None,
            seq=int(_number(row, role_table, _line(role_table, index), "seq_num")),
            rates=role_rates.get(row["role_id"], ())))

    rsrc_table, rsrc_rows = _rows(xer, "RSRC")
    rrate_table, rrate_rows = _rows(xer, "RSRCRATE")
    resource_rates = _rates(rrate_table, rrate_rows, "rsrc_id", warnings, "resource")
    links_table, link_rows = _rows(xer, "RSRCROLE")
    links: dict[str, dict[str, int]] = {}
    for index, row in enumerate(link_rows):
        if row.get("role_id") in role_ids:
            level = parse_number(row.get("skill_level", ""), links_table.name, _line(links_table, index),
                                 "skill_level")
            links.setdefault(row.get("rsrc_id", ""), {})[row["role_id"]] = min(5, max(1, int(level or 3)))
    resource_ids = {row.get("rsrc_id", "") for row in rsrc_rows
                    if (row.get("rsrc_short_name") or "").strip() != GENERIC_COST_CODE}
    resources, used_calendars = [], {}
    for index, row in enumerate(rsrc_rows):
        rsrc_id = row.get("rsrc_id", "")
        if rsrc_id not in resource_ids:
            continue
        line = _line(rsrc_table, index)
        code = (row.get("rsrc_short_name") or row.get("rsrc_name") or rsrc_id).strip()
        kind = RESOURCE_TYPES.get(row.get("rsrc_type") or "RT_Labor")
        if kind is None:
            raise XerError(f"resource {code}: unknown rsrc_type {row.get('rsrc_type')!r}", rsrc_table.name, line)
        calendar = row.get("clndr_id") or None
        if calendar is not None and calendar not in calendars:
            warnings.append(f"resource {code}: calendar {calendar} is not in the file; the resource has none")
            calendar = None
        if calendar is not None:
            used_calendars[calendar] = calendars[calendar]
        rates = resource_rates.get(rsrc_id, ())
        limits = [rate.max_units_per_hour for rate in rates if rate.max_units_per_hour is not None]
        parent = row.get("parent_rsrc_id") or None
        resources.append(ExchangeResource(
            id=rsrc_id, code=code, name=(row.get("rsrc_name") or code).strip(), type=kind,
            parent_id=parent if parent in resource_ids and parent != rsrc_id else None,
            seq=int(_number(row, rsrc_table, line, "rsrc_seq_num")), calendar_id=calendar,
            max_units_per_hour=limits[-1] if limits else 1.0,
            default_units_per_hour=_number(row, rsrc_table, line, "def_qty_per_hr", 1.0),
            unit_of_measure=units.get(row.get("unit_id") or "", ""),
            active=(row.get("active_flag") or "Y").strip().upper() != "N", rates=rates,
            roles=tuple(sorted(links.get(rsrc_id, {}).items()))))

    curves = {row.get("curv_id", ""): (row.get("curv_name") or "").strip() for row in xer.rows("RSRCCURV")}
    assignments, folded = _assignments(xer, proj_id, set(activity_ids), resource_ids, role_ids, curves, warnings)
    return ReadResources(ExchangeResources(resources=resources, roles=roles, assignments=assignments,
                                           calendars=used_calendars), folded)


def _assignments(xer, proj_id, activity_ids, resource_ids, role_ids, curves, warnings):
    table, rows = _rows(xer, "TASKRSRC")
    assignments, folded, unknown_curves, unknown = [], {}, set(), 0
    generic = _generic_ids(xer)
    for index, row in enumerate(rows):
        task_id = row.get("task_id", "")
        if task_id not in activity_ids or (row.get("proj_id") or proj_id) != proj_id:
            continue
        line = _line(table, index)

        def money(column):
            return _money(row.get(column, ""), table.name, line, column)

        def number(column, default=0.0):
            return _number(row, table, line, column, default)

        def date(column):
            return parse_date(row.get(column, ""), table.name, line, column)

        rsrc_id = row.get("rsrc_id") or None
        role_id = row.get("role_id") or None
        if role_id not in role_ids:
            role_id = None
        if rsrc_id not in resource_ids:
            if rsrc_id is not None and rsrc_id not in generic:
                unknown += 1
            rsrc_id = None
        budget, actual = money("target_cost"), money("act_reg_cost") + money("act_ot_cost")
        if rsrc_id is None and role_id is None:
            before = folded.get(task_id, (ZERO, ZERO))
            folded[task_id] = (before[0] + budget, before[1] + actual)
            continue
        curve = "uniform"
        curv_id = row.get("curv_id") or ""
        if curv_id:
            name = curves.get(curv_id, "")
            curve = CURVES.get(name.lower())
            if curve is None:
                unknown_curves.add(name or curv_id)
                curve = "uniform"
        source = RATE_SOURCES.get(row.get("cost_per_qty_source_type") or "",
                                  "resource" if rsrc_id is not None else "role")
        actual_start, actual_finish = date("act_start_date"), date("act_end_date")
        start = date("restart_date") or (actual_start if actual_finish else None) or date("target_start_date")
        finish = date("reend_date") or actual_finish or date("target_end_date")
        assignments.append(ExchangeAssignment(
            id=row.get("taskrsrc_id") or str(index), activity_id=task_id, resource_id=rsrc_id, role_id=role_id,
            budgeted_units=number("target_qty"), actual_units=number("act_reg_qty") + number("act_ot_qty"),
            remaining_units=number("remain_qty"),
            units_per_hour=number("target_qty_per_hr", number("remain_qty_per_hr", 1.0)),
            budgeted_cost=budget, actual_cost=actual, remaining_cost=money("remain_cost"), rate_source=source,
            price_per_unit=money("cost_per_qty") if source == "override" else None,
            start=start, finish=finish, actual_start=actual_start, actual_finish=actual_finish, curve=curve))
    if unknown:
        warnings.append(f"{unknown} TASKRSRC row(s) name a resource the file does not hold (table RSRC): their "
                        f"costs are their activities' own, without an assignment")
    if unknown_curves:
        warnings.append(f"resource curves {', '.join(sorted(unknown_curves))} are read as uniform")
    return assignments, folded


def _generic_ids(xer) -> set[str]:
    return {row.get("rsrc_id", "") for row in xer.rows("RSRC")
            if (row.get("rsrc_short_name") or "").strip() == GENERIC_COST_CODE}


# Writing

def _hours(value) -> str:
    """Units and hours as the shortest text that reads back to the same float (P6 writes eight decimals)."""
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else repr(value)


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _day(value: _dt.date) -> str:
    return f"{value.isoformat()} 00:00"


def resource_tables(resources: ExchangeResources, *, generic: bool = False) -> list[XerTable]:
    """UMEASURE, ROLES, ROLERATE, RSRC, RSRCRATE, RSRCROLE and RSRCCURV (the tables P6 lists before TASK) of
    ``resources``; with ``generic`` the generic cost resource too. Calendars: :func:`resource_calendar_rows`."""
    tables = []
    unit_ids = {unit: str(k + 1) for k, unit in enumerate(sorted({r.unit_of_measure for r in resources.resources
                                                                  if r.unit_of_measure}))}
    if unit_ids:
        tables.append(XerTable.of("UMEASURE", UMEASURE_FIELDS, [
            {"unit_id": unit_id, "unit_abbrev": unit, "unit_name": unit} for unit, unit_id in unit_ids.items()]))
    if resources.roles:
        tables.append(XerTable.of("ROLES", ROLES_FIELDS, [
            {"role_id": role.id, "parent_role_id": role.parent_id or "", "seq_num": str(role.seq),
             "role_name": role.name, "role_short_name": role.code, "cost_qty_type": "QT_Hour"}
            for role in resources.roles]))
        tables.append(XerTable.of("ROLERATE", ROLERATE_FIELDS, [
            {"role_id": role.id, "cost_per_qty": str(rate.price_per_unit), "start_date": _day(rate.effective_from),
             "max_qty_per_hr": _hours(rate.max_units_per_hour)}
            for role in resources.roles for rate in role.rates]))
        _number_rows(tables[-1], "role_rate_id")
    rows = [{"rsrc_id": r.id, "parent_rsrc_id": r.parent_id or "", "clndr_id": r.calendar_id or "",
             "rsrc_seq_num": str(r.seq), "rsrc_name": r.name, "rsrc_short_name": r.code,
             "def_qty_per_hr": _hours(r.default_units_per_hour), "cost_qty_type": "QT_Hour",
             "active_flag": "Y" if r.active else "N", "unit_id": unit_ids.get(r.unit_of_measure, ""),
             "rsrc_type": _RESOURCE_TYPE_CODES[r.type]} for r in resources.resources]
    if generic:
        rows.append({"rsrc_id": GENERIC_COST_ID, "rsrc_name": "Activity costs", "rsrc_short_name": GENERIC_COST_CODE,
                     "def_qty_per_hr": "1", "cost_qty_type": "QT_Hour", "active_flag": "Y", "rsrc_type": "RT_Mat"})
    if rows:
        tables.append(XerTable.of("RSRC", RSRC_FIELDS, rows))
    rates = []
    for resource in resources.resources:
        rates.extend({"rsrc_id": resource.id, "cost_per_qty": str(rate.price_per_unit),
                      "start_date": _day(rate.effective_from), "max_qty_per_hr": _hours(rate.max_units_per_hour)}
                     for rate in resource.rates)
    if rates:
        tables.append(XerTable.of("RSRCRATE", RSRCRATE_FIELDS, rates))
        _number_rows(tables[-1], "rsrc_rate_id")
    links = [{"rsrc_id": resource.id, "role_id": role_id, "skill_level": str(level)}
             for resource in resources.resources for role_id, level in resource.roles]
    if links:
        tables.append(XerTable.of("RSRCROLE", RSRCROLE_FIELDS, links))
        _number_rows(tables[-1], "rsrc_role_id")
    curves = sorted({a.curve for a in resources.assignments if a.curve in _CURVE_NAMES})
    if curves:
        tables.append(XerTable.of("RSRCCURV", RSRCCURV_FIELDS, [
            {"curv_id": _curve_id(curve), "curv_name": _CURVE_NAMES[curve], "default_flag": "N"}
            for curve in curves]))
    return tables


def _curve_id(curve: str) -> str:
    return str(1 + list(_CURVE_NAMES).index(curve))


def _number_rows(table: XerTable, column: str) -> None:
    for number, row in enumerate(table.rows, 1):
        row[column] = str(number)


def resource_calendar_rows(resources: ExchangeResources, proj_id: str, to_clndr_data) -> list[dict]:
    """CALENDAR rows (``clndr_type`` ``CA_Rsrc``) of the resources' calendars."""
    return [{"clndr_id": key, "default_flag": "N", "clndr_name": calendar.name, "proj_id": "",
             "clndr_type": "CA_Rsrc", "day_hr_cnt": _hours(calendar.hours_per_day),
             "clndr_data": to_clndr_data(calendar)} for key, calendar in resources.calendars.items()]


def taskrsrc_line(assignment: ExchangeAssignment, proj_id: str, resource_types: dict[str, str],
                  number: int | None = None) -> str:
    """One assignment's TASKRSRC line (``%R`` and the values of :data:`TASKRSRC_FIELDS`), numbered ``number``
    (else by the assignment's id); ``resource_types``: resource id → its type."""
    a = assignment
    done = a.actual_finish is not None
    price = a.price_per_unit if a.rate_source == "override" and a.price_per_unit is not None else ""
    kind = resource_types.get(a.resource_id or "", "")
    return "\t".join((
        "%R", a.id if number is None else str(number), a.activity_id, proj_id, a.resource_id or "", a.role_id or "", _hours(a.remaining_units),
        _hours(a.budgeted_units), _hours(a.units_per_hour), _hours(a.units_per_hour), _hours(a.actual_units), "0",
        str(price), str(a.budgeted_cost), str(a.actual_cost), "0", str(a.remaining_cost), _date(a.actual_start),
        _date(a.actual_finish), "" if done else _date(a.start), "" if done else _date(a.finish), _date(a.start),
        _date(a.finish), "COST_PER_QTY", _RATE_SOURCE_CODES.get(a.rate_source, "ST_Rsrc"),
        _curve_id(a.curve) if a.curve in _CURVE_NAMES else "", _RESOURCE_TYPE_CODES.get(kind, "")))


def generic_cost_line(number: int, task_id: str, proj_id: str, budget, actual, remaining) -> str:
    """A TASKRSRC line of the generic cost resource carrying an activity's own costs (no units, no dates)."""
    return "\t".join((
        "%R", str(number), task_id, proj_id, GENERIC_COST_ID, "", "0", "0", "0", "0", "0", "0", "", str(budget),
        str(actual), "0", str(remaining), "", "", "", "", "", "", "COST_PER_QTY", "ST_Rsrc", "", "RT_Mat"))
