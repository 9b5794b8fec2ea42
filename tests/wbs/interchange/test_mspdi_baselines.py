"""Named baselines in MS Project XML: the numbered ``Baseline`` slots of each task read into crmpm's named
baselines, written back, and import → export → import keeping them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.errors import Invalid
from tests import factories
from tests.wbs.xer_fixtures import ALL_XER, xer_path
from wbs import baselines as baseline_service, interchange
from wbs.interchange.mspdi import MspdiError, read_mspdi
from wbs.models import Activity

# A file as Microsoft's schema describes it: two tasks, each with the slot "Baseline" (Number 0) and the
# slot "Baseline 2"; the second task has no "Baseline 2". Costs are in cents, as Project writes them.
_WORKDAY = b"""    <WeekDay><DayType>%d</DayType><DayWorking>1</DayWorking><WorkingTimes>
     <WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>
     <WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>"""
FILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="http://schemas.microsoft.com/project">
 <SaveVersion>14</SaveVersion>
 <Name>BL.xml</Name>
 <Title>Baselines</Title>
 <StartDate>2026-03-02T08:00:00</StartDate>
 <MinutesPerDay>480</MinutesPerDay>
 <CalendarUID>1</CalendarUID>
 <Calendars>
  <Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>
   <WeekDays>
    <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
%(workdays)s
    <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>
   </WeekDays></Calendar>
 </Calendars>
 <Tasks>
  <Task><UID>0</UID><ID>0</ID><Name>Baselines</Name><OutlineNumber>0</OutlineNumber><OutlineLevel>0</OutlineLevel>
   <Summary>1</Summary></Task>
  <Task><UID>1</UID><ID>1</ID><Name>Dig</Name><WBS>A</WBS><OutlineNumber>1</OutlineNumber><OutlineLevel>1</OutlineLevel>
   <Start>2026-03-02T08:00:00</Start><Finish>2026-03-04T17:00:00</Finish><Duration>PT24H0M0S</Duration>
   <Baseline><Number>0</Number><Start>2026-03-02T08:00:00</Start><Finish>2026-03-03T17:00:00</Finish>
    <Duration>PT16H0M0S</Duration><Cost>150000</Cost><Work>PT16H0M0S</Work></Baseline>
   <Baseline><Number>2</Number><Start>2026-03-03T08:00:00</Start><Finish>2026-03-05T12:00:00</Finish>
    <Duration>PT20H0M0S</Duration><Cost>99950</Cost></Baseline>
  </Task>
  <Task><UID>2</UID><ID>2</ID><Name>Pour</Name><WBS>B</WBS><OutlineNumber>2</OutlineNumber><OutlineLevel>1</OutlineLevel>
   <Start>2026-03-05T08:00:00</Start><Finish>2026-03-05T17:00:00</Finish><Duration>PT8H0M0S</Duration>
   <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink>
   <Baseline><Number>0</Number><Start>2026-03-04T08:00:00</Start><Finish>2026-03-04T17:00:00</Finish>
    <Duration>PT8H0M0S</Duration><Cost>2500</Cost></Baseline>
  </Task>
 </Tasks>
</Project>
""" % {b"workdays": b"\n".join(_WORKDAY % day for day in range(2, 7))}


def _by_code(session, project) -> dict:
    """``{baseline name: (role, {activity code: (start, finish, hours, cost)})}`` as stored."""
    codes = dict(session.execute(select(Activity.id, Activity.code).where(Activity.project_id == project.id)).all())
    return {baseline.name: (baseline.role, {codes[key]: kept for key, kept in values.items()})
            for baseline, values in baseline_service.baselines_with_values(session, project=project)}


def test_the_numbered_slots_are_read_as_named_baselines():
    source = read_mspdi(FILE)
    assert [(b.name, b.role) for b in source.baselines] == [("Baseline", "primary"), ("Baseline 2", None)]
    first, second = source.baselines
    assert set(first.activities) == {"1", "2"} and set(second.activities) == {"1"}
    dig = first.activities["1"]
    assert (dig.start, dig.finish, dig.duration_hours, dig.budgeted_cost) == (
        datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 17), 16.0, Decimal("1500.00"))
    assert second.activities["1"].budgeted_cost == Decimal("999.50")
    assert second.activities["1"].duration_hours == 20.0


def test_a_slot_number_beyond_ten_is_refused_naming_the_task():
    with pytest.raises(MspdiError, match="Baseline Number 11 is not 0-10"):
        read_mspdi(FILE.replace(b"<Number>2</Number>", b"<Number>11</Number>"))


@pytest.fixture
def admin(session):
    return factories.admin(session)


def test_import_stores_the_files_baselines_and_the_primary_dates(session, admin):
    node = factories.node(session, actor=admin, code="BLM")
    project = interchange.import_mspdi(session, actor=admin, data=FILE, eps_node=node)
    stored = _by_code(session, project)
    assert list(stored) == ["Baseline", "Baseline 2"]  # the file's own, no "Baseline 1" of the first schedule
    assert stored["Baseline"] == ("primary", {
        "A": (datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 17), 16.0, Decimal("1500.00")),
        "B": (datetime(2026, 3, 4, 8), datetime(2026, 3, 4, 17), 8.0, Decimal("25.00"))})
    assert stored["Baseline 2"] == (None, {
        "A": (datetime(2026, 3, 3, 8), datetime(2026, 3, 5, 12), 20.0, Decimal("999.50"))})
    dig = session.scalar(select(Activity).where(Activity.project_id == project.id, Activity.code == "A"))
    assert (dig.baseline_start, dig.baseline_finish) == (datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 17))


def test_import_export_import_keeps_the_baselines(session, admin):
    node = factories.node(session, actor=admin, code="BLR")
    first = interchange.import_mspdi(session, actor=admin, data=FILE, eps_node=node, code="R1")
    # crmpm's own: a name Project has no place for, and a secondary role.
    taken = baseline_service.create_baseline(session, actor=admin, project=first, name="Contract",
                                             role="secondary")
    assert taken.activity_count == 2
    again = interchange.import_mspdi(session, actor=admin, data=interchange.export_mspdi(session, project=first),
                                     eps_node=node, code="R2")
    assert _by_code(session, again) == _by_code(session, first)
    assert [name for name in _by_code(session, again)] == ["Baseline", "Baseline 2", "Contract"]
    assert _by_code(session, again)["Contract"][0] == "secondary"


def test_the_primary_goes_in_slot_zero_and_at_most_ten_others_follow(session, admin):
    node = factories.node(session, actor=admin, code="BLS")
    project = interchange.import_mspdi(session, actor=admin, data=FILE, eps_node=node)
    for n in range(3, 13):
        baseline_service.create_baseline(session, actor=admin, project=project, name=f"Extra {n}")
    data = interchange.export_mspdi(session, project=project)
    source = read_mspdi(data)
    # Eleven slots: the primary, then the ten oldest others; "Extra 12" has no slot left.
    assert [b.name for b in source.baselines] == ["Baseline", "Baseline 2", *[f"Extra {n}" for n in range(3, 12)]]
    assert data.count(b"<Number>0</Number>") == 2 and data.count(b"<Number>10</Number>") == 2


def test_a_baseline_name_crmpm_cannot_hold_is_refused_on_import(session, admin):
    node = factories.node(session, actor=admin, code="BLN")
    with pytest.raises(Invalid, match="baseline.s name is 1 to 300 characters"):
        interchange.import_mspdi(session, actor=admin, eps_node=node,
                                 data=FILE.replace(b"<Summary>1</Summary></Task>",
                                                   b"<Summary>1</Summary><ExtendedAttribute><FieldID>188743731"
                                                   b"</FieldID><Value>baseline0=" + b"x" * 400 +
                                                   b"</Value></ExtendedAttribute></Task>", 1)
                                 .replace(b"<CalendarUID>1</CalendarUID>",
                                          b"<CalendarUID>1</CalendarUID><ExtendedAttributes><ExtendedAttribute>"
                                          b"<FieldID>188743731</FieldID><FieldName>Text1</FieldName>"
                                          b"<Alias>crmpm</Alias></ExtendedAttribute></ExtendedAttributes>", 1))


@pytest.mark.parametrize("batch", [1, 2_000])
def test_the_streamed_export_writes_each_batchs_own_baseline_values(session, admin, monkeypatch, batch):
    from wbs.interchange.mspdi import export as mspdi_export
    from wbs.interchange.mspdi import write_mspdi

    node = factories.node(session, actor=admin, code="BLB")
    project = interchange.import_mspdi(session, actor=admin, data=FILE, eps_node=node)
    monkeypatch.setattr(mspdi_export, "BATCH", batch)
    whole = write_mspdi(interchange.exchange_of(session, project=project))
    assert interchange.export_mspdi(session, project=project) == whole
    assert whole.count(b"<Baseline>") == 3


@pytest.mark.parametrize("name", ALL_XER)
def test_every_real_files_baselines_survive_the_mspdi_round_trip(session, admin, name):
    node = factories.node(session, actor=admin, code="BLX")
    try:
        first = interchange.import_xer(session, actor=admin, eps_node=node, data=xer_path(name).read_bytes(),
                                       code="R1")
    except Invalid as exc:
        pytest.skip(f"the file is refused on import, as test_import_real_files.py expects: {exc}")
    baseline_service.create_baseline(session, actor=admin, project=first, name="Tertiary", role="tertiary")
    again = interchange.import_mspdi(session, actor=admin, eps_node=node, code="R2",
                                     data=interchange.export_mspdi(session, project=first))
    assert _by_code(session, again) == _by_code(session, first)
    assert [(name, role) for name, (role, _values) in _by_code(session, again).items()] == [
        ("Baseline 1", "primary"), ("Tertiary", "tertiary")]
