"""The project list: every project the user may read, with its schedule figures."""

from __future__ import annotations

from flask import g, render_template, request

from crmpm.database import db
from crmpm.errors import NotFound
from eps import services as eps_services
from wbs import portfolio
from web.pagination import paginate
from web.views.pm.blueprint import bp

NODE_CHOICES = 300


@bp.route("/")
def index():
    """Projects the user may read: search by code or name, filter by EPS node and status."""
    session = db.session
    search = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    status = status if status in portfolio.STATUSES else ""
    node = None
    node_id = request.args.get("node", type=int)
    if node_id is not None and 0 < node_id < 2**31:
        # An unreadable node filters nothing rather than telling whether it exists.
        node = _readable_node(node_id)
    query = portfolio.list_projects(session, user=g.user, eps_node=node, search=search or None, status=status or None)
    args = {key: value for key, value in (("q", search), ("status", status), ("node", node.id if node else None))
            if value}
    page = paginate(session, query, args=args, default_per_page=25)
    figures = portfolio.figures(session, project_ids=[p.id for p in page.items])
    paths = portfolio.eps_paths(session, user=g.user, projects=list(page.items))
    nodes = list(session.scalars(eps_services.list_nodes(session, user=g.user).limit(NODE_CHOICES)))
    return render_template("projects/index.html", page=page, figures=figures, paths=paths, nodes=nodes,
                           node=node, search=search, status=status, statuses=portfolio.STATUSES,
                           may_import=bool(portfolio.nodes_for_new_projects(db.session, user=g.user, limit=1)))


def _readable_node(node_id: int):
    try:
        return eps_services.get_node_or_raise(db.session, user=g.user, node_id=node_id)
    except NotFound:
        return None
