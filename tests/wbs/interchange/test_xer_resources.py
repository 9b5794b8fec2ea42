"""XER resources through the database: RSRC, RSRCRATE, ROLES, ROLERATE, RSRCROLE and TASKRSRC in as the pool
and assignments, matched by code, all or nothing, and out again to the same figures.

Expected figures come from the raw file, split here line by line (``%T`` / ``%F`` / ``%R``) without the
importer's reader."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crmpm.errors import Conflict
from tests import factories
from tests.wbs.xer_fixtures import xer_path
from wbs import interchange
from wbs.interchange.xer.project import read_xer_project
from wbs.models import Activity, Calendar
from wbs.resources.models import Assignment, Resource, ResourceRole

REAL = "options-695.xer"  # 19 RSRC, 449 TASKRSRC rows, all of project 10001
CENTS = Decimal("0.01")
TYPES = {"RT_Labor": "labor", "RT_Equip": "nonlabor", "RT_Mat": "material"}


def raw_tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    """The file's tables as lists of dicts of raw strings: a tab split of its ``%T``, ``%F`` and ``%R`` lines."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    tables: dict[str, list[dict[str, str]]] = {}
    name, fields = None, []
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "%T":
            name = parts[1]
            tables[name] = []
        elif parts[0] == "%F":
            fields = parts[1:]
        elif parts[0] == "%R":
            values = parts[1:] + [""] * (len(fields) - len(parts) + 1)
            tables[name].append(dict(zip(fields, values)))
    return tables


def when(text: str) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%d %H:%M") if text else None


def amount(text: str) -> Decimal:
    return Decimal(text or "0").quantize(CENTS)


def number(text: str) -> float:
    return float(text or 0)


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="RESOURCES")
    return admin, node


def _import(session, place, data, code=None, proj=None):
    admin, node = place
    return interchange.import_xer(session, actor=admin, data=data, eps_node=node, code=code, proj=proj)


def _assignments(session, project) -> dict[str, Assignment]:
    return {a.external_id: a for a in session.scalars(select(Assignment).where(Assignment.project_id == project.id))}


def _activities(session, project) -> dict[str, Activity]:
    return {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == project.id))}


def _pool_counts(session):
    return (session.scalar(select(func.count()).select_from(Resource)),
            session.scalar(select(func.count()).select_from(ResourceRole)),
            session.scalar(select(func.count()).select_from(Calendar).where(Calendar.kind == "resource")))


def test_real_file_figures_are_the_raw_rows(session, place):
    data = xer_path(REAL).read_bytes()
    raw = raw_tables(data)
    project = _import(session, place, data, proj="10001")
    resources = {r.code: r for r in session.scalars(select(Resource))}
    rsrc = {row["rsrc_id"]: row for row in raw["RSRC"]}
    assert len(rsrc) == 19 and set(resources) >= {row["rsrc_short_name"] for row in rsrc.values()}
    calendars = {row["clndr_id"]: row for row in raw["CALENDAR"]}
    rates = defaultdict(list)
    for row in raw["RSRCRATE"]:
        rates[row["rsrc_id"]].append((when(row["start_date"]).date(), amount(row["cost_per_qty"]),
                                      number(row["max_qty_per_hr"])))
    for row in rsrc.values():
        resource = resources[row["rsrc_short_name"]]
        assert (resource.name, resource.type, resource.default_units_per_hour) == (
            row["rsrc_name"], TYPES[row["rsrc_type"]], number(row["def_qty_per_hr"]))
        parent = rsrc.get(row["parent_rsrc_id"])
        assert (resource.parent_id and session.get(Resource, resource.parent_id).code) == (
            parent and parent["rsrc_short_name"])
        calendar = session.get(Calendar, resource.calendar_id)
        assert (calendar.kind, calendar.project_id, calendar.name) == (
            "resource", None, calendars[row["clndr_id"]]["clndr_name"])
        assert [(r.effective_from, r.price_per_unit, r.max_units_per_hour) for r in resource.rates] == \
            sorted(rates[row["rsrc_id"]])
    role = session.scalars(select(ResourceRole)).one()
    raw_role = raw["ROLES"][0]
    assert (role.code, role.name) == (raw_role["role_short_name"], raw_role["role_name"])
    assert [(r.effective_from, r.price_per_unit) for r in role.rates] == [
        (when(r["start_date"]).date(), amount(r["cost_per_qty"])) for r in raw["ROLERATE"]]

    tasks = {row["task_id"]: row for row in raw["TASK"]}
    roles = {row["role_id"]: row["role_short_name"] for row in raw["ROLES"]}
    stored = _assignments(session, project)
    activities = _activities(session, project)
    assert len(stored) == len(raw["TASKRSRC"]) == 449
    budget, actual = defaultdict(Decimal), defaultdict(Decimal)
    for row in raw["TASKRSRC"]:
        a = stored[row["taskrsrc_id"]]
        task = tasks[row["task_id"]]
        assert session.get(Activity, a.activity_id).code == task["task_code"]
        assert a.resource.code == rsrc[row["rsrc_id"]]["rsrc_short_name"]
        assert (a.role.code if a.role else None) == roles.get(row["role_id"])
        assert a.budgeted_units == number(row["target_qty"])
        assert a.actual_units == pytest.approx(number(row["act_reg_qty"]) + number(row["act_ot_qty"]), abs=1e-9)
        assert a.remaining_units == number(row["remain_qty"])
        assert a.units_per_hour == number(row["target_qty_per_hr"])
        assert (a.budgeted_cost, a.actual_cost, a.remaining_cost) == (
            amount(row["target_cost"]), amount(row["act_reg_cost"]) + amount(row["act_ot_cost"]),
            amount(row["remain_cost"]))
        assert (a.actual_start, a.actual_finish) == (when(row["act_start_date"]), when(row["act_end_date"]))
        # P6's own assignment dates: the remaining ones while work remains, the actual ones once done
        # (ours follow the activity's schedule, which reproduces P6's for this project).
        if task["status_code"] == "TK_Complete":
            assert (a.start, a.finish) == (when(row["act_start_date"]), when(row["act_end_date"]))
        else:
            assert (a.start, a.finish) == (when(row["restart_date"]), when(row["reend_date"]))
        budget[task["task_code"]] += amount(row["target_cost"])
        actual[task["task_code"]] += amount(row["act_reg_cost"]) + amount(row["act_ot_cost"])
    for code, total in budget.items():
        assert (activities[code].budgeted_cost, activities[code].actual_cost) == (total, actual[code])
    primaries = {row["task_code"]: rsrc[row["rsrc_id"]]["rsrc_short_name"] for row in tasks.values()
                 if row["rsrc_id"] and row["proj_id"] == "4533"}
    assert primaries
    assert {code: session.get(Resource, a.primary_resource_id).code for code, a in activities.items()
            if a.primary_resource_id} == primaries


# A small file with what the real one lacks: costs with four decimals, rates changing over time, a role with its
# rate, a resource's roles, a role-only assignment, a custom price, overtime, a resource calendar (CA_Rsrc)
# and a resource-dependent activity on it, and activity costs on the generic cost line crmpm writes for an activity without assignments.
BUILT = "\r\n".join([
    "ERMHDR\t20.12\t2026-01-01\tProject\tadmin\tadmin\tdbxDatabaseNoName\tProject Management\tUSD",
    "%T\tUMEASURE", "%F\tunit_id\tunit_abbrev\tunit_name", "%R\t3\tm3\tCubic metre",
    "%T\tROLES", "%F\trole_id\tparent_role_id\tseq_num\trole_name\trole_short_name",
    "%R\t50\t\t1\tEngineering\tENG", "%R\t51\t50\t2\tPLC programmer\tPLC",
    "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tclndr_id\tlast_recalc_date\tplan_start_date",
    "%R\t7\tBUILT\t1\t2026-03-02 08:00\t2026-03-02 08:00",
    "%T\tROLERATE", "%F\trole_rate_id\trole_id\tcost_per_qty\tstart_date\tmax_qty_per_hr",
    "%R\t1\t51\t55.5000\t2026-01-01 00:00\t2",
    "%T\tCALENDAR", "%F\tclndr_id\tdefault_flag\tclndr_name\tproj_id\tbase_clndr_id\tclndr_type\tday_hr_cnt\tclndr_data",
    "%R\t1\tY\tStandard\t\t\tCA_Base\t8\t(0||CalendarData()((0||DaysOfWeek()((0||1()())(0||2()((0||0(s|08:00|f|12:00)())"
    "(0||1(s|13:00|f|17:00)())))(0||3()((0||0(s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))(0||4()((0||0(s|08:00|f|"
    "12:00)())(0||1(s|13:00|f|17:00)())))(0||5()((0||0(s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))(0||6()((0||0("
    "s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))(0||7()())))))",
    "%R\t2\tN\tCrane week\t\t\tCA_Rsrc\t10\t(0||CalendarData()((0||DaysOfWeek()((0||1()())(0||2()((0||0(s|07:00|f|"
    "17:00)())))(0||3()((0||0(s|07:00|f|17:00)())))(0||4()((0||0(s|07:00|f|17:00)())))(0||5()((0||0(s|07:00|f|17:00"
    ")())))(0||6()((0||0(s|07:00|f|17:00)())))(0||7()((0||0(s|07:00|f|17:00)())))))))",
    "%T\tSCHEDOPTIONS", "%F\tschedoptions_id\tproj_id\tsched_retained_logic", "%R\t1\t7\tY",
    "%T\tPROJWBS", "%F\twbs_id\tproj_id\tparent_wbs_id\twbs_short_name\twbs_name\tproj_node_flag",
    "%R\t70\t7\t\tBUILT\tBuilt project\tY", "%R\t71\t7\t70\tW1\tWorks\tN",
    "%T\tRSRC", "%F\trsrc_id\tparent_rsrc_id\tclndr_id\trsrc_seq_num\trsrc_name\trsrc_short_name\tdef_qty_per_hr\t"
    "active_flag\tunit_id\trsrc_type",
    "%R\t90\t\t1\t1\tSite crew\tCREW\t1\tY\t\tRT_Labor",
    "%R\t91\t90\t1\t2\tIvan Petrov\tPETROV\t0.5\tY\t\tRT_Labor",
    "%R\t92\t\t2\t3\tTower crane\tCRANE\t1\tY\t\tRT_Equip",
    "%R\t93\t\t1\t4\tConcrete\tCONC\t1\tN\t3\tRT_Mat",
    "%R\t94\t\t\t5\tActivity costs\tCRMPM-COST\t1\tY\t\tRT_Mat",
    "%T\tRSRCRATE", "%F\trsrc_rate_id\trsrc_id\tmax_qty_per_hr\tcost_per_qty\tstart_date",
    "%R\t1\t91\t1\t40.0000\t2026-01-01 00:00", "%R\t2\t91\t0.8\t42.5000\t2026-03-09 00:00",
    "%R\t3\t92\t1\t150.1250\t2026-01-01 00:00", "%R\t4\t93\t\t98.7600\t2026-01-01 00:00",
    "%T\tRSRCROLE", "%F\trsrc_role_id\trsrc_id\trole_id\tskill_level", "%R\t1\t91\t51\t2",
    "%T\tTASK", "%F\ttask_id\tproj_id\twbs_id\tclndr_id\trsrc_id\ttask_type\tstatus_code\ttask_code\ttask_name\t"
    "target_drtn_hr_cnt\tremain_drtn_hr_cnt\tact_start_date\tact_end_date",
    "%R\t700\t7\t71\t1\t\tTT_Task\tTK_Complete\tA100\tSurvey\t8\t0\t2026-02-26 08:00\t2026-02-26 17:00",
    "%R\t701\t7\t71\t1\t92\tTT_Rsrc\tTK_NotStart\tA110\tLift steel\t20\t20\t\t",
    "%R\t702\t7\t71\t1\t91\tTT_Task\tTK_NotStart\tA120\tProgram PLC\t16\t16\t\t",
    "%R\t703\t7\t71\t1\t\tTT_Task\tTK_NotStart\tA130\tPermits\t8\t8\t\t",
    "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\tpred_type\tlag_hr_cnt",
    "%R\t1\t701\t700\t7\t7\tPR_FS\t0", "%R\t2\t702\t701\t7\t7\tPR_FS\t0",
    "%T\tTASKRSRC", "%F\ttaskrsrc_id\ttask_id\tproj_id\trsrc_id\trole_id\tremain_qty\ttarget_qty\t"
    "target_qty_per_hr\tact_reg_qty\tact_ot_qty\tcost_per_qty\ttarget_cost\tact_reg_cost\tact_ot_cost\tremain_cost\t"
    "act_start_date\tact_end_date\trestart_date\treend_date\ttarget_start_date\ttarget_end_date\t"
    "cost_per_qty_source_type",
    "%R\t800\t700\t7\t91\t\t0\t8\t1\t7\t1.5\t\t340.0000\t297.5000\t63.7500\t0.0000\t2026-02-26 08:00\t2026-02-26 "
    "17:00\t\t\t2026-02-26 08:00\t2026-02-26 17:00\tST_Rsrc",
    "%R\t801\t701\t7\t92\t\t20\t20\t1\t0\t0\t\t3002.5000\t0.0000\t0.0000\t3002.5000\t\t\t2026-03-02 08:00\t"
    "2026-03-03 17:00\t2026-03-02 08:00\t2026-03-03 17:00\tST_Rsrc",
    "%R\t802\t701\t7\t93\t\t12.5\t12.5\t0.625\t0\t0\t99.9900\t1249.8750\t0.0000\t0.0000\t1249.8750\t\t\t\t\t"
    "2026-03-02 08:00\t2026-03-03 17:00\tST_Custom",
    "%R\t803\t702\t7\t\t51\t16\t16\t1\t0\t0\t\t888.0000\t0.0000\t0.0000\t888.0000\t\t\t\t\t2026-03-04 08:00\t"
    "2026-03-05 17:00\tST_Role",
    "%R\t804\t703\t7\t94\t\t0\t0\t1\t0\t0\t\t500.0000\t125.0000\t0.0000\t375.0000\t\t\t\t\t\t\tST_Rsrc",
    "%E", ""]).encode("cp1252")


def test_built_file_figures_are_the_raw_rows(session, place):
    raw = raw_tables(BUILT)
    project = _import(session, place, BUILT)
    resources = {r.code: r for r in session.scalars(select(Resource))}
    petrov, crane, concrete = resources["PETROV"], resources["CRANE"], resources["CONC"]
    assert session.get(Resource, petrov.parent_id).code == "CREW"
    assert (petrov.type, crane.type, concrete.type) == ("labor", "nonlabor", "material")
    assert (concrete.unit_of_measure, concrete.active, petrov.default_units_per_hour) == ("m3", False, 0.5)
    assert [(r.effective_from, r.price_per_unit, r.max_units_per_hour) for r in petrov.rates] == [
        (date(2026, 1, 1), Decimal("40.00"), 1.0), (date(2026, 3, 9), Decimal("42.50"), 0.8)]
    assert petrov.max_units_per_hour == 0.8  # the last rate period's
    assert [(link.role.code, link.proficiency) for link in petrov.role_links] == [("PLC", 2)]
    plc = session.scalars(select(ResourceRole).where(ResourceRole.code == "PLC")).one()
    assert session.get(ResourceRole, plc.parent_id).code == "ENG"
    assert [(r.effective_from, r.price_per_unit, r.max_units_per_hour) for r in plc.rates] == [
        (date(2026, 1, 1), Decimal("55.50"), 2.0)]
    crane_calendar = session.get(Calendar, crane.calendar_id)
    assert (crane_calendar.kind, crane_calendar.name, crane_calendar.hours_per_day) == ("resource", "Crane week", 10)
    assert crane_calendar.week[5] == [[420, 1020]]  # Saturday 07:00-17:00
    # CA_Rsrc: the resource's, not one of the project's calendars.
    assert [c.name for c in session.scalars(select(Calendar).where(Calendar.project_id == project.id))] == ["Standard"]

    stored = _assignments(session, project)
    assert set(stored) == {"800", "801", "802", "803"}  # 804 is the generic cost line: the activity's own costs
    by_row = {row["taskrsrc_id"]: row for row in raw["TASKRSRC"]}
    for key, a in stored.items():
        row = by_row[key]
        assert (a.budgeted_units, a.actual_units, a.remaining_units) == (
            number(row["target_qty"]), number(row["act_reg_qty"]) + number(row["act_ot_qty"]),
            number(row["remain_qty"]))
        assert (a.budgeted_cost, a.actual_cost, a.remaining_cost) == (
            amount(row["target_cost"]), amount(row["act_reg_cost"]) + amount(row["act_ot_cost"]),
            amount(row["remain_cost"]))
    assert stored["800"].actual_units == 8.5 and stored["800"].actual_cost == Decimal("361.25")
    assert (stored["802"].rate_source, stored["802"].price_per_unit) == ("override", Decimal("99.99"))
    assert (stored["803"].resource_id, stored["803"].role.code, stored["803"].rate_source) == (None, "PLC", "role")
    activities = _activities(session, project)
    # Costs of activities are their assignments' sums: A100 340.00 budgeted, 297.50 + 63.75 actual; A110
    # 3002.50 + 1249.8750 (1249.88 in cents) budgeted; A120 888.00; A130 keeps its generic line's 500.00 / 125.00.
    assert {code: (a.budgeted_cost, a.actual_cost) for code, a in activities.items()} == {
        "A100": (Decimal("340.00"), Decimal("361.25")), "A110": (Decimal("4252.38"), Decimal("0.00")),
        "A120": (Decimal("888.00"), Decimal("0.00")), "A130": (Decimal("500.00"), Decimal("125.00"))}
    assert activities["A110"].primary_resource_id == crane.id
    assert activities["A110"].calendar_id != crane.calendar_id  # its own calendar is kept; scheduling takes the crane's
    # A110 (20 h) on the crane's week (Monday to Saturday 07:00-17:00) from the data date, Mon 2026-03-02 08:00
    # (A100 is done): 9 h on Monday, 10 h on Tuesday, 1 h on Wednesday: finish Wed 08:00. On its own calendar
    # (8 h days) it would finish Wed 12:00.
    assert (activities["A110"].early_start, activities["A110"].early_finish) == (
        datetime(2026, 3, 2, 8), datetime(2026, 3, 4, 8))
    assert (stored["801"].start, stored["801"].finish) == (datetime(2026, 3, 2, 8), datetime(2026, 3, 4, 8))


def test_second_import_matches_the_pool_by_code(session, place):
    first = _import(session, place, BUILT, code="FIRST")
    counts = _pool_counts(session)
    # CREW, PETROV, CRANE, CONC; ENG, PLC; two resource calendars: one copy of Standard (shared by CREW, PETROV
    # and CONC) and the crane's week.
    assert counts == (4, 2, 2)
    second = _import(session, place, BUILT, code="SECOND")
    assert _pool_counts(session) == counts
    pairs = {a.external_id: (a.resource_id, a.role_id) for a in _assignments(session, first).values()}
    assert {a.external_id: (a.resource_id, a.role_id) for a in _assignments(session, second).values()} == pairs


def test_existing_resource_keeps_what_the_pool_says(session, place):
    session.add(Resource(code="CRANE", name="Our crane", type="nonlabor"))
    session.flush()
    project = _import(session, place, BUILT)
    crane = session.scalars(select(Resource).where(Resource.code == "CRANE")).one()
    assert (crane.name, crane.calendar_id, crane.rates) == ("Our crane", None, [])
    # Without a resource calendar A110 keeps its own (Monday to Friday 08:00-12:00, 13:00-17:00): 20 h from
    # Mon 08:00 are 8 h Monday, 8 h Tuesday and 4 h Wednesday morning: finish Wed 12:00.
    a110 = _activities(session, project)["A110"]
    assert a110.early_finish == datetime(2026, 3, 4, 12)


def test_import_failing_half_way_leaves_no_resources(session, place):
    looped = BUILT.replace(b"%R\t2\t702\t701\t7\t7\tPR_FS\t0", b"%R\t2\t702\t701\t7\t7\tPR_FS\t0\r\n"
                                                               b"%R\t3\t701\t702\t7\t7\tPR_FS\t0")
    before = _pool_counts(session)
    savepoint = session.begin_nested()
    with pytest.raises(Conflict):
        _import(session, place, looped)  # resources are written, then scheduling finds the loop
    savepoint.rollback()
    assert _pool_counts(session) == before
    assert session.scalar(select(func.count()).select_from(Assignment)) == 0


def _neutral(data: bytes, proj=None):
    """The file's resources read as the neutral ones, keyed by codes instead of the file's ids."""
    source = read_xer_project(data, proj=proj)
    pool = source.resources
    codes = {r.id: r.code for r in pool.resources}
    role_codes = {r.id: r.code for r in pool.roles}
    tasks = {a.id: a.code for a in source.activities}
    used = {a.resource_id for a in pool.assignments} | {a.primary_resource_id for a in source.activities}
    resources = {}
    for r in pool.resources:
        if r.id not in used:
            continue
        calendar = pool.calendars.get(r.calendar_id)
        resources[r.code] = (r.name, r.type, codes.get(r.parent_id), r.max_units_per_hour, r.default_units_per_hour,
                             r.unit_of_measure, r.active, r.rates,
                             tuple(sorted((role_codes[k], level) for k, level in r.roles)),
                             calendar and (calendar.week, calendar.exceptions, calendar.hours_per_day))
    roles = {r.code: (r.name, role_codes.get(r.parent_id), r.rates) for r in pool.roles
             if r.id in {a.role_id for a in pool.assignments}}
    assignments = sorted(
        (tasks[a.activity_id], codes.get(a.resource_id), role_codes.get(a.role_id), a.budgeted_units, a.actual_units,
         a.remaining_units, a.units_per_hour, a.budgeted_cost, a.actual_cost, a.remaining_cost, a.rate_source,
         a.price_per_unit, a.actual_start, a.actual_finish, a.curve) for a in pool.assignments)
    primaries = {a.code: codes[a.primary_resource_id] for a in source.activities if a.primary_resource_id}
    costs = {a.code: (a.budgeted_cost, a.actual_cost) for a in source.activities}
    return resources, roles, assignments, primaries, costs


def _in_cents(rates):
    """Rates as crmpm keeps money: in cents (P6 writes four decimals)."""
    return tuple(replace(rate, price_per_unit=rate.price_per_unit.quantize(CENTS)) for rate in rates)


def _stored(session, project):
    """The project's assignments as stored, by activity and resource or role code, with their dates."""
    return sorted(
        (session.get(Activity, a.activity_id).code, a.resource and a.resource.code, a.role and a.role.code,
         a.budgeted_units, a.actual_units, a.remaining_units, a.units_per_hour, a.budgeted_cost, a.actual_cost,
         a.remaining_cost, a.rate_source, a.price_per_unit, a.start, a.finish, a.actual_start, a.actual_finish,
         a.curve) for a in _assignments(session, project).values())


@pytest.mark.parametrize("name, proj", [(REAL, "10001"), ("built", None)])
def test_import_export_import_keeps_resources_rates_roles_and_assignments(session, place, name, proj):
    data = BUILT if name == "built" else xer_path(name).read_bytes()
    first = _import(session, place, data, code="RT-1", proj=proj)
    exported = interchange.export_xer(session, project=first)
    original = _neutral(data, proj)
    again = _neutral(exported)
    # The file's own figures come out as they went in (money in cents, as crmpm keeps it).
    resources, roles, assignments, primaries, costs = original
    assert again[0] == {code: (*r[:7], _in_cents(r[7]), *r[8:]) for code, r in resources.items()}
    assert again[1] == {code: (*r[:2], _in_cents(r[2])) for code, r in roles.items()}
    cents = [(*a[:7], *(x.quantize(CENTS) for x in a[7:10]), a[10],
              a[11] if a[11] is None else a[11].quantize(CENTS), *a[12:]) for a in assignments]
    assert again[2] == sorted(cents)
    assert again[3] == primaries
    # The activities' own costs travel only where they have no assignments (the generic cost line).
    assigned = {a[0] for a in assignments}
    assert {k: v for k, v in again[4].items() if k not in assigned} == \
        {k: (v[0].quantize(CENTS), v[1].quantize(CENTS)) for k, v in costs.items() if k not in assigned}
    counts = _pool_counts(session)
    second = _import(session, place, exported, code="RT-2")
    assert _pool_counts(session) == counts
    assert _stored(session, second) == _stored(session, first)
    first_costs = {code: (a.budgeted_cost, a.actual_cost) for code, a in _activities(session, first).items()}
    assert {code: (a.budgeted_cost, a.actual_cost) for code, a in _activities(session, second).items()} == first_costs


def test_replacing_a_plan_replaces_its_assignments_and_keeps_the_pool(session, place):
    admin, _node = place
    project = _import(session, place, BUILT)
    before = _stored(session, project)
    counts = _pool_counts(session)
    interchange.replace_plan(session, actor=admin, project=project, source=read_xer_project(BUILT))
    session.expire_all()
    assert _pool_counts(session) == counts
    assert _stored(session, project) == before  # the old assignments went with the old activities
    assert session.scalar(select(func.count()).select_from(Assignment)) == 4
