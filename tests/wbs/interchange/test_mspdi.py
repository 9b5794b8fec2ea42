"""MS Project XML (MSPDI): the pure reader and writer, broken files, and the trip through the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crmpm import audit
from crmpm.audit.models import AuditEntry
from crmpm.errors import Invalid
from eps.models import Project
from tests import factories
from tests.wbs.interchange.test_store import assert_scheduled_as_p6, _snapshot
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import interchange, services
from wbs.scheduling import service as scheduling_service
from wbs.interchange.model import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs
from wbs.models import Activity, Calendar as StoredCalendar
from wbs.interchange.mspdi.common import MspdiError, format_duration, parse_duration
from wbs.interchange.mspdi.reader import _hours_per_day, read_mspdi
from wbs.interchange.mspdi.writer import write_mspdi
from wbs.scheduling.model import (ActivityType, Calendar, ConstraintType, CriticalDefinition, FloatType, LagCalendar,
                                  ProgressMode, Relationship, RelationshipType)

NS = "http://schemas.microsoft.com/project"
D = dt.datetime


def _file(tasks: str, *, calendars: str = "", extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="{NS}">
 <Name>small.xml</Name>
 <StartDate>2026-03-02T08:00:00</StartDate>
 <CalendarUID>1</CalendarUID>
 {extra}
 <Calendars>
  <Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>
   <WeekDays>
    <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
    <WeekDay><DayType>2</DayType><DayWorking>1</DayWorking>
     <WorkingTimes><WorkingTime><FromTime>09:00:00</FromTime><ToTime>13:00:00</ToTime></WorkingTime>
      <WorkingTime><FromTime>14:00:00</FromTime><ToTime>18:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>
   </WeekDays>
   <Exceptions><Exception><TimePeriod><FromDate>2026-03-09T00:00:00</FromDate><ToDate>2026-03-10T23:59:00</ToDate>
    </TimePeriod><Type>1</Type><DayWorking>0</DayWorking></Exception></Exceptions>
  </Calendar>
  {calendars}
 </Calendars>
 <Tasks>{tasks}</Tasks>
</Project>""".encode()


SMALL = """
  <Task><UID>0</UID><ID>0</ID><Name>Small project</Name><OutlineNumber>0</OutlineNumber><OutlineLevel>0</OutlineLevel>
   <Summary>1</Summary></Task>
  <Task><UID>1</UID><ID>1</ID><Name>Design</Name><WBS>1</WBS><OutlineNumber>1</OutlineNumber>
   <OutlineLevel>1</OutlineLevel><Summary>1</Summary></Task>
  <Task><UID>2</UID><ID>2</ID><Name>Sketch</Name><WBS>1.1</WBS><OutlineNumber>1.1</OutlineNumber>
   <OutlineLevel>2</OutlineLevel><Duration>PT16H0M0S</Duration><Cost>150000</Cost><ActualCost>2550</ActualCost>
   <PercentComplete>50</PercentComplete><ActualStart>2026-03-02T09:00:00</ActualStart>
   <RemainingDuration>PT8H0M0S</RemainingDuration><ConstraintType>4</ConstraintType>
   <ConstraintDate>2026-03-02T09:00:00</ConstraintDate></Task>
  <Task><UID>3</UID><ID>3</ID><Name>Approved</Name><WBS>1.2</WBS><OutlineNumber>1.2</OutlineNumber>
   <OutlineLevel>2</OutlineLevel><Duration>PT0H0M0S</Duration><Milestone>1</Milestone>
   <PredecessorLink><PredecessorUID>2</PredecessorUID><Type>1</Type><LinkLag>4800</LinkLag><LagFormat>7</LagFormat>
   </PredecessorLink></Task>
  <Task><UID>4</UID><ID>4</ID><Name>Build</Name><WBS>2</WBS><OutlineNumber>2</OutlineNumber>
   <OutlineLevel>1</OutlineLevel><Duration>PT7H30M0S</Duration><CalendarUID>-1</CalendarUID>
   <PredecessorLink><PredecessorUID>3</PredecessorUID><Type>3</Type></PredecessorLink>
   <PredecessorLink><PredecessorUID>2</PredecessorUID><Type>0</Type><LinkLag>50</LinkLag><LagFormat>19</LagFormat>
   </PredecessorLink></Task>
"""


def test_reads_outline_calendars_links_and_costs():
    project = read_mspdi(_file(SMALL))
    assert project.code == "small" and project.name == "Small project"
    assert [(e.id, e.code, e.name, e.parent_id) for e in project.wbs] == [("1", "1", "Design", None)]
    by_id = {a.id: a for a in project.activities}
    assert set(by_id) == {"2", "3", "4"}
    sketch, approved, build = by_id["2"], by_id["3"], by_id["4"]
    assert sketch.wbs_id == "1" and build.wbs_id is None
    assert (sketch.original_duration_hours, sketch.remaining_duration_hours) == (16.0, 8.0)
    assert sketch.budgeted_cost == Decimal("1500.00") and sketch.actual_cost == Decimal("25.50")
    assert sketch.actual_start == D(2026, 3, 2, 9) and sketch.percent_complete == 50
    assert (sketch.constraint, sketch.constraint_date) == (ConstraintType.START_ON_OR_AFTER, D(2026, 3, 2, 9))
    assert approved.type is ActivityType.FINISH_MILESTONE and build.original_duration_hours == 7.5
    links = {(r.predecessor, r.successor): (r.type, r.lag_hours) for r in project.relationships}
    # 4800 tenths of a minute = 8 h; 50 % of the predecessor's 16 h = 8 h.
    assert links == {("2", "3"): (RelationshipType.FS, 8.0), ("3", "4"): (RelationshipType.SS, 0.0),
                     ("2", "4"): (RelationshipType.FF, 8.0)}
    calendar = project.calendars["1"]
    assert calendar.week[0] == ((540, 780), (840, 1080)) and calendar.week[6] == ()
    # Days the file leaves out are Project's standard ones.
    assert calendar.week[1] == ((480, 720), (780, 1020)) and calendar.week[5] == ()
    assert calendar.exceptions == {dt.date(2026, 3, 9): (), dt.date(2026, 3, 10): ()}
    assert project.plan.default_calendar_id == "1" and project.plan.planned_start == D(2026, 3, 2, 8)


def test_derived_calendar_inherits_from_its_base_and_old_style_exceptions_count():
    derived = """<Calendar><UID>2</UID><Name>Night</Name><IsBaseCalendar>0</IsBaseCalendar>
      <BaseCalendarUID>1</BaseCalendarUID><WeekDays>
      <WeekDay><DayType>3</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime><FromTime>22:00:00</FromTime>
       <ToTime>00:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>
      <WeekDay><DayType>0</DayType><DayWorking>1</DayWorking><TimePeriod><FromDate>2026-03-07T00:00:00</FromDate>
       <ToDate>2026-03-07T23:59:00</ToDate></TimePeriod><WorkingTimes><WorkingTime><FromTime>10:00:00</FromTime>
       <ToTime>12:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay></WeekDays></Calendar>"""
    resources = """<Calendar><UID>3</UID><Name>Ivanov</Name><IsBaseCalendar>0</IsBaseCalendar>
      <BaseCalendarUID>1</BaseCalendarUID></Calendar>"""
    used = SMALL.replace("<CalendarUID>-1</CalendarUID>", "<CalendarUID>2</CalendarUID>")
    calendars = read_mspdi(_file(used, calendars=derived + resources)).calendars
    assert set(calendars) == {"1", "2"}  # the resource's own calendar, which no task uses, stays behind
    calendar = calendars["2"]
    assert calendar.week[1] == ((1320, 1440),)  # Tuesday, to midnight
    assert calendar.week[0] == ((540, 780), (840, 1080))  # Monday from the base
    assert calendar.exceptions[dt.date(2026, 3, 7)] == ((600, 720),)
    assert calendar.exceptions[dt.date(2026, 3, 9)] == ()  # the base's holiday


def _exception(name, first, last, kind, **fields):
    extra = "".join(f"<{key}>{value}</{key}>" for key, value in fields.items())
    return (f"<Exception><EnteredByOccurrences>1</EnteredByOccurrences><TimePeriod><FromDate>{first}T00:00:00"
            f"</FromDate><ToDate>{last}T23:59:00</ToDate></TimePeriod><Name>{name}</Name><Type>{kind}</Type>{extra}"
            f"<DayWorking>0</DayWorking></Exception>")


# Each recurrence with the days Project itself lists for it (as DayType 0 week days in the same file).
RECURRING = [
    (_exception("every 3 days", "2000-02-01", "2000-02-10", 7, Period=3), ["2000-02-01", "2000-02-04", "2000-02-07",
                                                                          "2000-02-10"]),
    (_exception("Thursday every 4 weeks", "2001-01-01", "2001-05-24", 6, Period=4, DaysOfWeek=16),
     ["2001-01-04", "2001-02-01", "2001-03-01", "2001-03-29", "2001-04-26", "2001-05-24"]),
    (_exception("Sunday every 7 weeks", "2001-01-01", "2002-03-17", 6, Period=7, DaysOfWeek=1),
     ["2001-02-18", "2001-04-08", "2001-05-27", "2001-07-15", "2001-09-02", "2001-10-21", "2001-12-09",
      "2002-01-27", "2002-03-17"]),
    (_exception("first Monday every 2 months", "2002-01-01", "2002-05-06", 5, Period=2, MonthItem=4,
                MonthPosition=0), ["2002-01-07", "2002-03-04", "2002-05-06"]),
    (_exception("last Friday every 6 months", "2002-01-01", "2005-01-28", 5, Period=6, MonthItem=8, MonthPosition=4),
     ["2002-01-25", "2002-07-26", "2003-01-31", "2003-07-25", "2004-01-30", "2004-07-30", "2005-01-28"]),
    (_exception("4th every 5 months", "2003-01-01", "2005-02-04", 4, Period=5, MonthDay=4),
     ["2003-01-04", "2003-06-04", "2003-11-04", "2004-04-04", "2004-09-04", "2005-02-04"]),
    (_exception("1 February", "2005-01-01", "2007-02-01", 2, Month=1, MonthDay=1),
     ["2005-02-01", "2006-02-01", "2007-02-01"]),
    (_exception("first Tuesday of March", "2004-01-01", "2007-03-06", 3, Month=2, MonthItem=5, MonthPosition=0),
     ["2004-03-02", "2005-03-01", "2006-03-07", "2007-03-06"]),
]


@pytest.mark.parametrize("exception, days", RECURRING)
def test_recurring_exceptions_give_the_days_project_gives(exception, days):
    calendar = f"<Calendar><UID>5</UID><Name>Recurring</Name><Exceptions>{exception}</Exceptions></Calendar>"
    project = read_mspdi(_file(SMALL, calendars=calendar))
    assert sorted(project.calendars["5"].exceptions) == [dt.date.fromisoformat(day) for day in days]
    assert not project.warnings


def _project() -> ExchangeProject:
    week = tuple(((480, 720), (780, 1020)) if d < 5 else () for d in range(7))
    calendars = {"c1": Calendar(id="c1", name="Five days", week=week,
                                exceptions={dt.date(2026, 3, 9): (), dt.date(2026, 3, 10): (),
                                            dt.date(2026, 3, 14): ((540, 780),)}),
                 "c2": Calendar.twenty_four_hour(id="c2", name="Round the clock")}
    wbs = [ExchangeWbs("w1", "1", "Design"), ExchangeWbs("w2", "1.1", "Drawings", "w1", 1),
           ExchangeWbs("w3", "2", "Build", None, 2)]
    activities = [
        ExchangeActivity("a", "A100", "Start", "w1", ActivityType.START_MILESTONE),
        ExchangeActivity("b", "A110", "Draw", "w2", original_duration_hours=24, remaining_duration_hours=10.5,
                         actual_start=D(2026, 3, 2, 8), percent_complete=33.33, budgeted_cost=Decimal("1200.50"),
                         actual_cost=Decimal("400.00"), notes="Two sheets\nA1 and A2",
                         expected_finish=D(2026, 3, 5, 17)),
        ExchangeActivity("c", "A120", "Cure", "w3", original_duration_hours=48, calendar_id="c2",
                         constraint=ConstraintType.MANDATORY_START, constraint_date=D(2026, 3, 11, 8),
                         secondary_constraint=ConstraintType.FINISH_ON_OR_BEFORE,
                         secondary_constraint_date=D(2026, 3, 20, 17)),
        ExchangeActivity("d", "A130", "Support", None, ActivityType.LEVEL_OF_EFFORT),
        ExchangeActivity("e", "A140", "Done", "w3", ActivityType.FINISH_MILESTONE,
                         constraint=ConstraintType.FINISH_ON, constraint_date=D(2026, 3, 31, 17)),
        ExchangeActivity("f", "A150", "Paid", None, original_duration_hours=8, remaining_duration_hours=0,
                         actual_start=D(2026, 2, 26, 8), actual_finish=D(2026, 2, 26, 17), percent_complete=100,
                         constraint=ConstraintType.AS_LATE_AS_POSSIBLE),
    ]
    links = [Relationship("a", "b"), Relationship("b", "c", RelationshipType.SS, 4.5),
             Relationship("c", "e", RelationshipType.FF, -2.0), Relationship("a", "d", RelationshipType.SS),
             Relationship("e", "d", RelationshipType.FF), Relationship("f", "e", RelationshipType.SF, 0.25)]
    plan = ExchangePlan(data_date=D(2026, 3, 4, 8), planned_start=D(2026, 3, 2, 8), must_finish_by=D(2026, 4, 30, 17),
                        default_calendar_id="c1", lag_calendar=LagCalendar.TWENTY_FOUR_HOUR,
                        critical_float_hours=16.0, open_ended_critical=True, use_expected_finish=False,
                        time_zone="Asia/Yekaterinburg")
    return ExchangeProject(code="DEMO", name="Пилотный проект", plan=plan, calendars=calendars, wbs=wbs,
                           activities=activities, relationships=links)


def _comparable(project: ExchangeProject):
    """Everything but the file's own keys, which a writer renumbers."""
    wbs_codes = {e.id: e.code for e in project.wbs}
    codes = {a.id: a.code for a in project.activities}
    calendars = {key: (c.name, c.week, dict(c.exceptions), c.hours_per_day) for key, c in project.calendars.items()}
    return {
        "project": (project.code, project.name, project.plan.__class__(**{
            **{k: getattr(project.plan, k) for k in project.plan.__slots__},
            "default_calendar_id": calendars.get(project.plan.default_calendar_id), "early_finish": None,
            "late_finish": None})),
        "wbs": sorted((e.code, e.name, wbs_codes.get(e.parent_id)) for e in project.wbs),
        "activities": sorted((a.code, a.name, wbs_codes.get(a.wbs_id), a.type, a.original_duration_hours,
                              a.remaining_duration_hours, calendars.get(a.calendar_id), a.constraint,
                              a.constraint_date, a.secondary_constraint, a.secondary_constraint_date, a.actual_start,
                              a.actual_finish, a.expected_finish, a.percent_complete, a.budgeted_cost, a.actual_cost,
                              a.notes) for a in project.activities),
        "links": sorted((codes[r.predecessor], codes[r.successor], r.type, r.lag_hours)
                        for r in project.relationships),
    }


def test_write_then_read_gives_the_same_project():
    original = _project()
    data = write_mspdi(original)
    assert data.startswith(b"<?xml") and f'xmlns="{NS}"'.encode() in data
    again = read_mspdi(data)
    assert _comparable(again) == _comparable(original)
    assert not again.warnings
    assert read_mspdi(write_mspdi(again)) == again


TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn")), min_size=1, max_size=30) \
    .map(str.strip).filter(bool)
WHEN = st.builds(lambda day, minutes: D(2026, 1, 1) + dt.timedelta(days=day, minutes=minutes),
                 st.integers(0, 400), st.sampled_from([0, 480, 510, 720, 1020]))
HOURS = st.integers(0, 800).map(lambda quarters: quarters / 4)
PERIODS = st.sampled_from([(), ((480, 720), (780, 1020)), ((0, 1440),), ((420, 900),), ((1320, 1440),)])


@st.composite
def projects(draw):
    """Any project crmpm can hold: a WBS tree, calendars, activities of every kind, links of every type."""
    calendars = {}
    for n in range(draw(st.integers(1, 3))):
        week = tuple(draw(PERIODS) for _ in range(7))
        exceptions = draw(st.dictionaries(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), PERIODS,
                                          max_size=8))
        calendars[f"c{n}"] = Calendar(id=f"c{n}", name=draw(TEXT), week=week, exceptions=exceptions,
                                      hours_per_day=_hours_per_day(week))
    wbs = []
    for n in range(draw(st.integers(0, 6))):
        parent = draw(st.sampled_from([None] + [w.id for w in wbs]))
        wbs.append(ExchangeWbs(f"w{n}", f"W{n}", draw(TEXT), parent, n))
    activities = []
    for n in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(list(ActivityType)))
        constraint = draw(st.none() | st.sampled_from(list(ConstraintType)))
        secondary = draw(st.none() | st.sampled_from(list(ConstraintType)))
        started = draw(st.none() | WHEN)
        finished = draw(st.none() | WHEN) if started else None
        activities.append(ExchangeActivity(
            id=f"a{n}", code=f"A{n}", name=draw(TEXT), wbs_id=draw(st.sampled_from([None] + [w.id for w in wbs])),
            type=kind, original_duration_hours=draw(HOURS), remaining_duration_hours=draw(st.none() | HOURS),
            calendar_id=draw(st.sampled_from([None, *calendars])), constraint=constraint,
            constraint_date=draw(WHEN) if constraint not in (None, ConstraintType.AS_LATE_AS_POSSIBLE) else None,
            secondary_constraint=secondary, secondary_constraint_date=draw(WHEN) if secondary else None,
            actual_start=started, actual_finish=max(finished, started) if finished else None,
            expected_finish=draw(st.none() | WHEN),
            percent_complete=draw(st.integers(0, 10000)) / 100,
            budgeted_cost=Decimal(draw(st.integers(0, 10**9))) / 100,
            actual_cost=Decimal(draw(st.integers(0, 10**7))) / 100,
            notes=draw(st.just("") | TEXT)))
    pairs = draw(st.lists(st.tuples(st.integers(0, len(activities) - 1), st.integers(0, len(activities) - 1)),
                          max_size=20, unique=True))
    links = [Relationship(f"a{p}", f"a{q}", draw(st.sampled_from(list(RelationshipType))),
                          draw(st.integers(-80, 400)) / 4) for p, q in pairs if p != q]
    plan = ExchangePlan(
        data_date=draw(st.none() | WHEN), planned_start=draw(st.none() | WHEN), must_finish_by=draw(st.none() | WHEN),
        default_calendar_id=draw(st.sampled_from(list(calendars))),
        progress_mode=draw(st.sampled_from(list(ProgressMode))), lag_calendar=draw(st.sampled_from(list(LagCalendar))),
        float_type=draw(st.sampled_from(list(FloatType))),
        critical_definition=draw(st.sampled_from(list(CriticalDefinition))),
        critical_float_hours=draw(HOURS), open_ended_critical=draw(st.booleans()),
        use_expected_finish=draw(st.booleans()), time_zone=draw(st.sampled_from([None, "Europe/Moscow", "UTC"])))
    return ExchangeProject(code=draw(TEXT)[:40].strip() or "P", name=" ".join(draw(TEXT).split()), plan=plan,
                           calendars=calendars, wbs=wbs, activities=activities, relationships=links)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_any_project_survives_write_and_read(project):
    assert _comparable(read_mspdi(write_mspdi(project))) == _comparable(project)


def test_written_file_speaks_plain_mspdi():
    text = write_mspdi(_project()).decode()
    assert "<Duration>PT24H0M0S</Duration>" in text  # durations in hours
    assert "<LinkLag>2700</LinkLag>" in text and "<LagFormat>5</LagFormat>" in text  # 4.5 h in tenths of minutes
    assert "<ConstraintType>2</ConstraintType>" in text and "<Deadline>2026-03-20T17:00:00</Deadline>" in text
    assert "<Cost>120050</Cost>" in text  # hundredths, as Project writes currency
    # Loose activities first, then the WBS: 3 Design, 3.2 Drawings, 3.2.1 Draw.
    assert "<OutlineNumber>3.2.1</OutlineNumber>" in text and "<Alias>crmpm</Alias>" in text


def test_durations():
    assert parse_duration("PT8H0M0S") == 8.0
    assert parse_duration("PT0H30M0S") == 0.5
    assert parse_duration("P1DT2H") == 26.0
    assert format_duration(26.25) == "PT26H15M0S"
    for bad in ("8h", "PT", "PTxH", "-PT8H"):
        with pytest.raises(ValueError):
            parse_duration(bad)


BROKEN = [
    (b"this is not xml", "not an XML file"),
    (b"<Project><Tasks/></Project>", "not an MS Project XML"),
    (b'<Plan xmlns="http://schemas.microsoft.com/project"/>', "root element is <Plan>"),
    (b'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY a "aaaa">]><Project xmlns="http://schemas.microsoft.com/'
     b'project"/>', "document type declarations are not allowed"),
]


@pytest.mark.parametrize("data, message", BROKEN)
def test_not_mspdi_is_refused_clearly(data, message):
    with pytest.raises(MspdiError) as caught:
        read_mspdi(data)
    assert message in str(caught.value)


@pytest.mark.parametrize("task, message, uid", [
    ("<Task><ID>7</ID><Name>No UID</Name></Task>", "a task without UID", None),
    ("<Task><UID>7</UID><Name>X</Name><Duration>eight hours</Duration></Task>", "Duration 'eight hours' is not a "
     "duration", 7),
    ("<Task><UID>7</UID><Name>X</Name><PredecessorLink><PredecessorUID>99</PredecessorUID></PredecessorLink></Task>",
     "PredecessorLink to unknown task UID 99", 7),
    ("<Task><UID>7</UID><Name>X</Name><ActualStart>yesterday</ActualStart></Task>", "ActualStart 'yesterday'", 7),
    ("<Task><UID>7</UID><Name>X</Name><PercentComplete>150</PercentComplete></Task>", "between 0 and 100", 7),
    ("<Task><UID>7</UID><Name>X</Name><ConstraintType>9</ConstraintType></Task>", "ConstraintType 9", 7),
    ("<Task><UID>7</UID><Name>X</Name><CalendarUID>42</CalendarUID></Task>", "CalendarUID 42", 7),
    ("<Task><UID>7</UID></Task><Task><UID>7</UID></Task>", "UID 7 is used twice", 7),
    ("<Task><UID>x7</UID></Task>", "UID 'x7' is not a whole number", None),
    ("<Task><UID>7</UID><Duration>PT9999999H0M0S</Duration></Task>", "at most 1,000,000 hours", 7),
    ("<Task><UID>7</UID><ConstraintType>4</ConstraintType><ConstraintDate>9999-01-01T00:00:00</ConstraintDate>"
     "</Task>", "a date in 1900-2199", 7),
    ("<Task><UID>7</UID><Duration>PT1H0M0S</Duration></Task><Task><UID>8</UID><PredecessorLink><PredecessorUID>7"
     "</PredecessorUID><LinkLag>9000000000</LinkLag></PredecessorLink></Task>", "LinkLag", 8),
])
def test_broken_task_names_element_uid_and_line(tmp_path, task, message, uid):
    path = tmp_path / "broken.xml"
    path.write_bytes(_file(f"\n\n{task}\n"))
    with pytest.raises(MspdiError) as caught:
        read_mspdi(path.read_bytes())
    error = caught.value
    assert message in str(error)
    assert "Task" in str(error) and (uid is None or f"UID {uid}" in str(error))
    lines = path.read_text().splitlines()
    assert error.line is not None and lines[error.line - 1].strip().startswith("<Task")


CRMPM_FIELD = ("<ExtendedAttributes><ExtendedAttribute><FieldID>188743731</FieldID><FieldName>Text1</FieldName>"
               "<Alias>crmpm</Alias></ExtendedAttribute></ExtendedAttributes>")


@pytest.mark.parametrize("value, message", [
    ("type=meeting", "crmpm field type='meeting' is not one of task"),
    ("expected_finish=soon", "crmpm field expected_finish 'soon' is not a date"),
    ("percent_complete=most", "crmpm field percent_complete='most' is not a number"),
    ("garbage", "crmpm field part 'garbage' is not key=value"),
    ("secondary_constraint=finish_on_or_before; secondary_constraint_date=", "secondary_constraint_date ''"),
])
def test_bad_crmpm_field_is_named(value, message):
    tasks = SMALL.replace("<Name>Build</Name>", "<Name>Build</Name><ExtendedAttribute><FieldID>188743731</FieldID>"
                          f"<Value>{value}</Value></ExtendedAttribute>")
    with pytest.raises(MspdiError) as caught:
        read_mspdi(_file(tasks, extra=CRMPM_FIELD))
    assert message in str(caught.value) and "Task UID 4" in str(caught.value)


def test_bad_time_zone_is_named():
    summary = SMALL.replace("<Summary>1</Summary></Task>", "<Summary>1</Summary><ExtendedAttribute><FieldID>188743731"
                            "</FieldID><Value>time_zone=Mars/Olympus</Value></ExtendedAttribute></Task>", 1)
    with pytest.raises(MspdiError) as caught:
        read_mspdi(_file(summary, extra=CRMPM_FIELD))
    assert "time_zone='Mars/Olympus' is not an IANA time zone" in str(caught.value) and "UID 0" in str(caught.value)


def test_crmpm_field_is_found_by_its_alias_only():
    tasks = SMALL.replace("<Name>Approved</Name>", "<Name>Approved</Name><ExtendedAttribute><FieldID>188743734"
                          "</FieldID><Value>type=start_milestone</Value></ExtendedAttribute>")
    # Text2 aliased crmpm is read; the same value in a field of another alias means nothing to crmpm.
    aliased = CRMPM_FIELD.replace("188743731", "188743734").replace("Text1", "Text2")
    assert {a.id: a.type for a in read_mspdi(_file(tasks, extra=aliased)).activities}["3"] \
        is ActivityType.START_MILESTONE
    other = aliased.replace("<Alias>crmpm</Alias>", "<Alias>Phase</Alias>")
    assert {a.id: a.type for a in read_mspdi(_file(tasks, extra=other)).activities}["3"] \
        is ActivityType.FINISH_MILESTONE


def test_xml_syntax_error_names_its_line():
    with pytest.raises(MspdiError) as caught:
        read_mspdi(_file("<Task><UID>1</UID>\n<Name>A & B</Name></Task>"))
    assert "not an XML file" in str(caught.value) and caught.value.line is not None
    assert _file("<Task><UID>1</UID>\n<Name>A & B</Name></Task>").decode().splitlines()[caught.value.line - 1] \
        .strip().startswith("<Name>A & B")


def test_unsupported_things_become_warnings_not_errors():
    summary_link = "<PredecessorLink><PredecessorUID>4</PredecessorUID></PredecessorLink>"
    tasks = SMALL.replace("<OutlineLevel>1</OutlineLevel><Summary>1</Summary></Task>",
                          f"<OutlineLevel>1</OutlineLevel><Summary>1</Summary>{summary_link}</Task>", 1)
    recurring = """<Calendar><UID>3</UID><Name>Yearly</Name><Exceptions><Exception><TimePeriod>
      <FromDate>2026-01-01T00:00:00</FromDate><ToDate>2030-01-01T23:59:00</ToDate></TimePeriod><Type>3</Type>
      <Month>1</Month><MonthItem>1</MonthItem><MonthPosition>0</MonthPosition><Name>First weekday of February</Name>
      <DayWorking>0</DayWorking></Exception></Exceptions></Calendar>"""
    project = read_mspdi(_file(tasks, calendars=recurring, extra="<ScheduleFromStart>0</ScheduleFromStart>"))
    assert len(project.relationships) == 3
    assert any("summary task UID 1" in warning for warning in project.warnings)
    assert any("Yearly" in warning and "First weekday of February" in warning for warning in project.warnings)
    assert any("from its finish" in warning for warning in project.warnings)
    assert project.calendars["3"].exceptions == {}
    inactive = read_mspdi(_file(SMALL.replace("<Name>Build</Name>", "<Name>Build</Name><Active>0</Active>")))
    assert {a.id for a in inactive.activities} == {"2", "3"} and len(inactive.relationships) == 1
    assert any("task UID 4" in warning and "inactive" in warning for warning in inactive.warnings)


# Through the database


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSP")
    return admin, node


# The baseline file links one pair of activities by FS and by FF, as P6 allows; MS Project links a pair of
# tasks once, and crmpm keeps the second link in its own field of the file.
@pytest.mark.parametrize("name", GOLDEN)
def test_p6_file_through_mspdi_keeps_p6_dates(session, place, name):
    admin, node = place
    from_xer = interchange.import_xer(session, actor=admin, data=(xer_path(name)).read_bytes(), eps_node=node)
    data = interchange.export_mspdi(session, project=from_xer)
    from_mspdi = interchange.import_mspdi(session, actor=admin, data=data, eps_node=node, code=f"{from_xer.code}-M")
    assert_scheduled_as_p6(session, from_mspdi, name)
    assert _snapshot(session, from_mspdi) == _snapshot(session, from_xer)


def _built_project(session, admin, node):
    """A project made in crmpm: costs, progress, both constraints, a calendar of its own, a loose activity."""
    project = factories.project(session, actor=admin, node=node, code="BUILT")
    week = [[[480, 720], [780, 1020]]] * 5 + [[], []]
    calendar = services.create_calendar(session, actor=admin, name="Office", week=week, project=project,
                                        exceptions={dt.date(2026, 3, 9): []})
    services.update_plan(session, actor=admin, project=project, data_date=D(2026, 3, 4, 8),
                         planned_start=D(2026, 3, 2, 8), must_finish_by=D(2026, 5, 29, 17),
                         default_calendar_id=calendar.id, critical_float_hours=8.0,
                         float_type="smallest")
    top = services.create_element(session, actor=admin, project=project, code="1", name="Build")
    part = services.create_element(session, actor=admin, project=project, code="1.1", name="Part", parent=top)
    made = {}
    for code, fields in {
        "A": dict(wbs_element_id=top.id, original_duration_hours=8, actual_start=D(2026, 3, 2, 8),
                  actual_finish=D(2026, 3, 2, 17), remaining_duration_hours=0, percent_complete=100,
                  budgeted_cost=Decimal("100.00"), actual_cost=Decimal("120.00")),
        "B": dict(wbs_element_id=part.id, original_duration_hours=24, actual_start=D(2026, 3, 3, 8),
                  remaining_duration_hours=16, percent_complete=33.33, budgeted_cost=Decimal("300.00"),
                  actual_cost=Decimal("90.00"), notes="Half the drawings"),
        "C": dict(wbs_element_id=part.id, original_duration_hours=8, constraint_type="start_on_or_after",
                  constraint_date=D(2026, 3, 11, 8), budgeted_cost=Decimal("50.00")),
        "D": dict(original_duration_hours=16, constraint_type="mandatory_finish", constraint_date=D(2026, 3, 20, 17),
                  secondary_constraint_type="start_on_or_after", secondary_constraint_date=D(2026, 3, 12, 8)),
        "M": dict(type="start_milestone", wbs_element_id=top.id),
    }.items():
        made[code] = services.create_activity(session, actor=admin, project=project, code=code,
                                              name=f"Activity {code}", **fields)
    for pred, succ, kind, lag in (("A", "B", "FS", 0), ("B", "C", "SS", 4), ("C", "D", "FS", -2), ("M", "C", "FS", 0)):
        services.create_relationship(session, actor=admin, project=project, predecessor=made[pred],
                                     successor=made[succ], type=kind, lag_hours=lag)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    return project


def test_database_round_trip_import_export_import(session, place):
    admin, node = place
    built = _built_project(session, admin, node)
    first = interchange.import_mspdi(session, actor=admin, data=interchange.export_mspdi(session, project=built),
                                     eps_node=node, code="RT1")
    exported = interchange.export_mspdi(session, project=first)
    second = interchange.import_mspdi(session, actor=admin, data=exported, eps_node=node, code="RT2")
    assert _snapshot(session, second) == _snapshot(session, first)
    assert _snapshot(session, first) == _snapshot(session, built)
    plan = services.get_plan(session, project=second)
    assert (plan.must_finish_by, plan.float_type, plan.critical_float_hours) == (D(2026, 5, 29, 17), "smallest", 8.0)
    activities = {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == second.id))}
    assert activities["B"].percent_complete == 33.33 and activities["B"].notes == "Half the drawings"
    assert activities["D"].secondary_constraint_type == "start_on_or_after"
    assert activities["A"].actual_cost == Decimal("120.00") and second.planned_cost == Decimal("450.00")
    default = session.get(StoredCalendar, plan.default_calendar_id)
    assert default.name == "Office" and default.week[0] == [[480, 720], [780, 1020]] and default.week[5] == []
    assert {e.day: e.periods for e in default.exceptions} == {dt.date(2026, 3, 9): []}


def test_what_crmpm_cannot_hold_is_left_out_on_record(session, place):
    admin, node = place
    tasks = SMALL.replace("<OutlineLevel>1</OutlineLevel><Summary>1</Summary></Task>",
                          "<OutlineLevel>1</OutlineLevel><Summary>1</Summary>"
                          "<PredecessorLink><PredecessorUID>4</PredecessorUID></PredecessorLink></Task>", 1)
    project = interchange.import_mspdi(session, actor=admin, data=_file(tasks), eps_node=node)
    entry = session.scalars(audit.list_(entity_type="projects", entity_id=project.id)
                            .where(AuditEntry.action == "import")).one()
    assert entry.after["format"] == "mspdi" and entry.after["activities"] == 3
    assert len(entry.after["left_out"]) == 1 and "summary task UID 1" in entry.after["left_out"][0]
    assert session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project.id)) == 3


def test_broken_file_imports_nothing(session, place):
    admin, node = place
    before = session.scalar(select(func.count()).select_from(Project))
    with pytest.raises(Invalid) as caught:
        interchange.import_mspdi(session, actor=admin, data=_file("<Task><Name>no uid</Name></Task>"), eps_node=node)
    assert caught.value.message.startswith("MSPDI file: a task without UID") and "file" in caught.value.errors
    assert session.scalar(select(func.count()).select_from(Project)) == before


def test_a_pair_linked_twice_keeps_both_links_through_mspdi_and_the_export_says_so(session, place):
    """MS Project links a pair of tasks once: the FS is the file's link, the FF (lag 4 h) goes into crmpm's field,
    the export's warnings name the pair, and crmpm reading its own file gets both links back."""
    import xml.etree.ElementTree as ET
    from wbs.interchange.mspdi.export import mspdi_chunks
    from wbs.models import Relationship

    admin, node = place
    project = factories.project(session, actor=admin, node=node, code="TWICE")
    first = services.create_activity(session, actor=admin, project=project, code="A", name="Dig",
                                     original_duration_hours=16)
    second = services.create_activity(session, actor=admin, project=project, code="B", name="Pour",
                                      original_duration_hours=8)
    for kind, lag in (("FF", 4.0), ("FS", 0.0)):
        services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second,
                                     type=kind, lag_hours=lag)
    scheduling_service.schedule_project(session, actor=admin, project=project)

    chunks = mspdi_chunks(session, project=project)
    assert chunks.headers == {"X-Crmpm-Export-Warnings": "1"}
    assert chunks.warnings == ["1 pair of activities is linked more than once (A → B); MS Project holds one link "
                               "per pair: the file has the first as a link and keeps the others in crmpm's own field"]
    data = b"".join(chunks)
    root = ET.fromstring(data)
    ns = {"p": root.tag[1:root.tag.index("}")]}
    task_b = next(t for t in root.iter(f"{{{ns['p']}}}Task") if t.findtext("p:WBS", namespaces=ns) == "B")
    links = task_b.findall("p:PredecessorLink", ns)
    assert [(link.findtext("p:Type", namespaces=ns), link.findtext("p:LinkLag", namespaces=ns)) for link in links] \
        == [("1", "0")]  # FS (MSPDI type 1), no lag
    assert "extra_links=" in "".join(v.text or "" for v in task_b.iter(f"{{{ns['p']}}}Value"))

    again = interchange.import_mspdi(session, actor=admin, data=data, eps_node=node, code="TWICE-M")
    stored = session.execute(
        select(Relationship.type, Relationship.lag_hours).join(Activity, Activity.id == Relationship.successor_id)
        .where(Activity.project_id == again.id).order_by(Relationship.type)).all()
    assert [(str(getattr(t, "value", t)), lag) for t, lag in stored] == [("FF", 4.0), ("FS", 0.0)]


def test_an_unreadable_extra_link_in_crmpms_field_is_named_and_left_out(session, place):
    admin, node = place
    project = factories.project(session, actor=admin, node=node, code="ODD")
    first = services.create_activity(session, actor=admin, project=project, code="A", name="Dig",
                                     original_duration_hours=8)
    second = services.create_activity(session, actor=admin, project=project, code="B", name="Pour",
                                      original_duration_hours=8)
    services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second)
    for kind in ("FF",):
        services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second,
                                     type=kind)
    data = interchange.export_mspdi(session, project=project).decode()
    broken = data.replace("extra_links=", "extra_links=99:1:0,x,")
    result = read_mspdi(broken.encode())
    assert [(link.type.value, link.lag_hours) for link in result.relationships] == [("FS", 0.0), ("FF", 0.0)]
    assert any("extra link '99:1:0' was left out" in w for w in result.warnings)
    assert any("extra link 'x' was left out (not UID:type:lag)" in w for w in result.warnings)
