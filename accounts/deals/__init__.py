"""Deals: the sales side of EPS projects. Opening, changing, moving through the pipeline, winning.

Each deal is created together with its project (``eps.services.create_project``
under the account's node), so whoever may see the project sees the deal. Every
stage move is kept in ``deal_stage_changes`` with its time; a won deal hands
over to execution through ``on_deal_won``.

Where each part lives:

* ``rules``: the deal rules as pure functions (checks of a new deal, the opening
  stage history, the furthest reached stage, a lost deal's reason, when a deal is
  closed). The effective probability lives on the model: ``Deal.effective_probability``
  and, in SQL, ``accounts.models.effective_probability()``.
* ``create``: ``check_new_deal``, then ``create_deal`` (one deal) or ``create_deals``
  (a batch, for imports), both through the same opening; projects from ``eps.services``.
* ``changes``: ``update_deal`` and ``upsert_deal``.
* ``stages``: ``move_stage``, ``on_deal_won``, ``stage_history``, ``first_win``.
* ``board``: the pipeline board; ``queries``: ``get_deal_or_raise``, ``list_deals``, a list's page as rows (``deal_page``).
"""

from __future__ import annotations

from accounts.deals.board import BoardColumn, board, board_column
from accounts.deals.changes import update_deal, upsert_deal
from accounts.deals.create import NewDeal, check_new_deal, create_deal, create_deals
from accounts.deals.queries import DEAL_SORTS, deal_page, get_deal_or_raise, list_deals
from accounts.deals.rules import CURRENCY_RE, DEAL_FIELDS, ZERO, lines_total, make_lines
from accounts.deals.stages import WonResult, first_win, lock_deal, move_stage, on_deal_won, stage_history

__all__ = [
    "CURRENCY_RE", "DEAL_FIELDS", "DEAL_SORTS", "ZERO", "BoardColumn", "NewDeal", "WonResult", "board",
    "board_column", "check_new_deal", "create_deal", "create_deals", "first_win", "get_deal_or_raise",
    "deal_page", "lines_total", "list_deals", "lock_deal", "make_lines", "move_stage", "on_deal_won", "stage_history", "update_deal", "upsert_deal",
]
