"""The home page: what each kind of user works on, with links to it."""

from __future__ import annotations

from flask import current_app, g, render_template

from accounts import overview
from crmpm.database import db
from eps import budgets, services
from eps.models import ChangeStatus, Role
from eps.permissions import principal_grant_paths
from web.pages import page_blueprint
from web.queries import count

bp = page_blueprint("home", __name__)

RECENT = 8


@bp.route("/")
def index():
    """A dashboard built from the user's rights: finance, projects, administration, sales (when built)."""
    user, session = g.user, db.session
    roles = set() if user.is_admin else {
        role for role in Role if principal_grant_paths(session, user=user, roles=(role,))}
    pending = budgets.list_changes(session, user=user, status=ChangeStatus.pending)
    projects = services.list_projects(session, user=user)
    cards = {
        # Finance decides budget changes; managers request them and follow them.
        "finance": user.is_admin or bool(roles & {Role.finance, Role.manager}),
        "projects": user.is_admin or bool(roles & {Role.manager, Role.editor}),
        "sales": not user.is_admin and Role.finance not in roles and Role.manager not in roles,
        "admin": user.is_admin,
    }
    sales = None
    if cards["sales"] and "crm.tasks" in current_app.view_functions:
        sales = {"overdue_tasks": overview.overdue_task_count(session, user=user),
                 "open_leads": overview.open_lead_count(session, user=user)}
    return render_template(
        "home/index.html",
        sales=sales,
        cards=cards,
        roles=sorted(role.value for role in roles),
        pending_count=count(session, pending),
        pending=session.scalars(pending.limit(5)).all(),
        project_count=count(session, projects),
        projects=session.scalars(projects.limit(RECENT)).all(),
        node_count=count(session, services.list_nodes(session, user=user)),
    )
