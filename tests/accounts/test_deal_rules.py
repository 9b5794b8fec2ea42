"""The pure deal rules (``accounts.deals.rules``), without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.deals import rules
from accounts.models import PipelineStage, StageKind
from crmpm.errors import Invalid

STAGES = [PipelineStage(id=index + 1, name=name, position=index + 1, probability=probability, kind=kind)
          for index, (name, probability, kind) in enumerate([
              ("Qualification", 10, StageKind.open), ("Proposal", 40, StageKind.open),
              ("Negotiation", 70, StageKind.open), ("Won", 100, StageKind.won), ("Lost", 0, StageKind.lost)])]
FIRST, WON, LOST = STAGES[0], STAGES[3], STAGES[4]
OPENED = datetime(2026, 3, 1, tzinfo=timezone.utc)


@given(st.sampled_from(STAGES), st.lists(st.sampled_from(STAGES), max_size=12))
def test_reached_after_moves_is_the_furthest_non_lost_stage_visited(opening, moves):
    # What move_stage keeps row by row is what pipelines.recompute_reached rebuilds from the whole history.
    history = rules.opening_history(stage=opening, opened=OPENED, closed=None)
    reached = rules.reached_at_opening(history, first=FIRST)
    for stage in moves:
        reached = rules.reached_after(reached, stage)
    visited = [to_stage for _from, to_stage, _at in history] + moves
    assert reached == (rules.furthest(visited) or FIRST)


@pytest.mark.parametrize(("stage", "closed", "expected"), [
    (STAGES[1], None, [(None, STAGES[1], OPENED)]),
    (STAGES[1], OPENED + timedelta(days=3), [(None, STAGES[1], OPENED)]),  # an open deal has no close
    (WON, None, [(None, WON, OPENED)]),
    (WON, OPENED, [(None, WON, OPENED)]),  # closed when opened: one step
    (WON, OPENED - timedelta(days=1), [(None, WON, OPENED)]),
    # A deal that comes in closed entered its terminal stage when it closed; no walk through earlier stages.
    (LOST, OPENED + timedelta(days=3), [(None, LOST, OPENED + timedelta(days=3))]),
    (WON, OPENED + timedelta(days=3), [(None, WON, OPENED + timedelta(days=3))]),
])
def test_opening_history(stage, closed, expected):
    assert rules.opening_history(stage=stage, opened=OPENED, closed=closed) == expected


def test_a_lost_deal_opened_in_the_lost_stage_has_reached_the_first_stage():
    history = rules.opening_history(stage=LOST, opened=OPENED, closed=None)
    assert rules.reached_at_opening(history, first=FIRST) is FIRST


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_the_lost_stage_needs_a_reason(reason):
    with pytest.raises(Invalid) as refused:
        rules.check_lost_reason(LOST, reason)
    assert refused.value.errors == {"lost_reason": ["required for the lost stage"]}
    rules.check_lost_reason(WON, reason)
    rules.check_lost_reason(LOST, "Price")


def test_closed_at_only_in_terminal_stages():
    assert [rules.closed_at(stage, OPENED) for stage in STAGES] == [None, None, None, OPENED, OPENED]
