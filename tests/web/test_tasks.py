"""My tasks: overdue first with the days late, then today, then upcoming; done; new tasks; rights."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import activities
from accounts.models import Task, TaskStatus
from crmpm.database import utcnow
from eps.models import Role
from tests import factories


@pytest.fixture
def desk(session, admin, world):
    """A seller (editor on A) with tasks due three days ago, one hour ago, in a minute... and another's task."""
    seller = factories.user(session, name="Sara Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=seller)
    account = factories.account(session, actor=admin, region=world["A"], name="Acme Mills", owner=seller)
    pipeline = factories.pipeline(session)
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, owner=seller)
    now = utcnow()
    tasks = {}
    for key, due in (("late", now - timedelta(days=3, hours=1)), ("week", now + timedelta(days=7)),
                     ("soon", now + timedelta(minutes=1)), ("latest", now - timedelta(days=10))):
        tasks[key] = activities.create_task(session, actor=admin, title=f"Task {key}", due_at=due, account=account,
                                            deal=deal if key == "late" else None, assignee=seller)
    other = factories.user(session, name="Other Person")
    tasks["theirs"] = activities.create_task(session, actor=admin, title="Someone else's task", due_at=now,
                                             account=account, assignee=other)
    session.commit()
    return {"seller": seller, "account": account, "deal": deal, "tasks": tasks}


def _task_rows(html: str) -> list[tuple[str, int]]:
    return [(kind, int(task_id)) for kind, task_id in re.findall(r'<tr class="task-(\w+)" data-task="(\d+)"', html)]


def test_overdue_first_with_days_late_then_upcoming(pages, session, desk):
    body = pages.log_in_as(desk["seller"]).get("/crm/tasks").get_data(as_text=True)
    tasks = desk["tasks"]
    rows = _task_rows(body)
    assert [task_id for _kind, task_id in rows][:2] == [tasks["latest"].id, tasks["late"].id]
    assert rows[0][0] == rows[1][0] == "overdue"
    assert dict((task_id, kind) for kind, task_id in rows)[tasks["week"].id] == "upcoming"
    assert rows[-1] == ("upcoming", tasks["week"].id)
    late = re.search(rf'data-task="{tasks["latest"].id}">(.*?)</tr>', body, re.S).group(1)
    assert "10 days overdue" in late
    assert "2 tasks are overdue" in body
    assert "Someone else&#39;s task" not in body and "Someone else's task" not in body
    # The linked account and deal are named.
    row = re.search(rf'data-task="{tasks["late"].id}">(.*?)</tr>', body, re.S).group(1)
    assert "Acme Mills" in row and desk["deal"].name in row


def test_mark_done_moves_the_task_to_done(pages, session, desk):
    task = desk["tasks"]["late"]
    pages.log_in_as(desk["seller"])
    response = pages.post(f"/crm/tasks/{task.id}/done", {"next": "/crm/tasks"})
    assert response.status_code == 303 and response.location == "/crm/tasks"
    session.expire_all()
    task = session.get(Task, task.id)
    assert task.status is TaskStatus.done and task.completed_at is not None
    open_page = pages.get("/crm/tasks").get_data(as_text=True)
    assert f'data-task="{task.id}"' not in open_page and "1 task is overdue" in open_page
    done_page = pages.get("/crm/tasks?status=done").get_data(as_text=True)
    assert _task_rows(done_page) == [("done", task.id)]
    again = pages.post(f"/crm/tasks/{task.id}/done", {"next": "/crm/tasks"})
    assert again.status_code == 303
    assert "is no longer open" in pages.get(again.location).get_data(as_text=True)


def test_new_task_on_an_account_or_a_deal(pages, session, desk):
    pages.log_in_as(desk["seller"])
    form = pages.get("/crm/tasks").get_data(as_text=True)
    assert f'<option value="{desk["account"].id}">Acme Mills</option>' in form
    response = pages.post("/crm/tasks", {"title": "Send the contract", "due_at": "2026-12-01T09:00",
                                         "deal_id": desk["deal"].id})
    assert response.status_code == 303
    task = session.scalars(select(Task).where(Task.title == "Send the contract")).one()
    assert task.deal_id == desk["deal"].id and task.account_id == desk["account"].id
    assert task.assignee_id == desk["seller"].id
    assert task.due_at.isoformat() == "2026-12-01T06:00:00+00:00"  # typed in Moscow time


@pytest.mark.parametrize("data, message", [
    ({"title": "", "due_at": "2026-12-01T09:00", "account_id": "ACCOUNT"}, "Task"),
    ({"title": "x", "due_at": "soon", "account_id": "ACCOUNT"}, "Due"),
    ({"title": "x", "due_at": "2026-12-01T09:00"}, "account or a deal"),
])
def test_bad_task_input_is_refused_and_writes_nothing(pages, session, desk, data, message):
    data = {key: (desk["account"].id if value == "ACCOUNT" else value) for key, value in data.items()}
    before = session.scalar(select(func.count()).select_from(Task))
    pages.log_in_as(desk["seller"])
    response = pages.post("/crm/tasks", data, headers={"Referer": "http://localhost/crm/tasks"})
    assert response.status_code == 303 and response.location == "/crm/tasks"
    flash = re.search(r'class="flash flash-error"[^>]*>([^<]+)<', pages.get("/crm/tasks").get_data(as_text=True))
    assert message in flash.group(1)
    assert session.scalar(select(func.count()).select_from(Task)) == before


def test_a_viewer_may_not_complete_or_create(pages, session, admin, world, desk):
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=viewer)
    session.commit()
    task = desk["tasks"]["late"]
    pages.log_in_as(viewer)
    assert pages.post(f"/crm/tasks/{task.id}/done").status_code == 403
    assert pages.post("/crm/tasks", {"title": "x", "due_at": "2026-12-01T09:00",
                                     "account_id": desk["account"].id}).status_code == 403
    session.expire_all()
    assert session.get(Task, task.id).status is TaskStatus.open


def test_a_stranger_gets_404_and_csrf_is_checked(pages, session, desk, user_with):
    task = desk["tasks"]["late"]
    assert pages.log_in_as(user_with(None)).post(f"/crm/tasks/{task.id}/done").status_code == 404
    assert pages.log_in_as(desk["seller"]).post(f"/crm/tasks/{task.id}/done", csrf=False).status_code == 400
    session.expire_all()
    assert session.get(Task, task.id).status is TaskStatus.open


def test_tasks_are_paginated(pages, session, admin, desk):
    for n in range(35):
        activities.create_task(session, actor=admin, title=f"Bulk {n}", due_at=utcnow() + timedelta(days=30 + n),
                               account=desk["account"], assignee=desk["seller"])
    session.commit()
    pages.log_in_as(desk["seller"])
    assert len(_task_rows(pages.get("/crm/tasks").get_data(as_text=True))) == 30
    assert len(_task_rows(pages.get("/crm/tasks?page=2").get_data(as_text=True))) == 9
