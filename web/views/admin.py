"""Administration: users, teams, grants on EPS nodes and projects, and what a user can see.

Users, teams and the preview are for administrators. The access page of a
node or project is for anyone who may read it; its controls appear for those
who manage it (the grant service checks again).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid
from crmpm.users import resets, services as users
from eps import grants, services
from eps.models import EpsNode, Grant, Role
from eps.permissions import Permission, access_to
from web import queries
from web.forms import (
    ActionForm, GrantForm, MemberForm, TeamCreateForm, TemporaryPasswordForm, UserCreateForm, UserEditForm, check, choices,
)
from web.pagination import paginate
from web.pages import page_blueprint, refresh_stamp, require_admin, safe_next

bp = page_blueprint("admin", __name__, url_prefix="/admin")

# The grant form lists this many active users; beyond that an admin types the email instead (later).
PRINCIPAL_CHOICES = 200  # a picker lists this many people; a search narrows it down


# Users


@bp.route("/users", endpoint="users")
def list_users():
    """All users, a page at a time, with the form to add one."""
    require_admin()
    page = paginate(db.session, users.list_(db.session, clients=True))
    return render_template("admin/users.html", page=page, form=UserCreateForm(), action_form=ActionForm())


@bp.route("/users", methods=["POST"])
def create_user():
    """Create a user."""
    admin = require_admin()
    form = check(UserCreateForm())
    user = users.create(db.session, actor=admin, email=form.email.data, name=form.name.data,
                        password=form.password.data, is_admin=form.is_admin.data, locale=form.locale.data)
    flash(_("User %(email)s created.", email=user.email), "info")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/users/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
def set_active(user_id: int, action: str):
    """Deactivate a user (their session and tokens stop working) or activate them again."""
    admin = require_admin()
    check(ActionForm())
    user = users.get_or_raise(db.session, user_id=user_id)
    users.update(db.session, actor=admin, user=user, is_active=(action == "activate"))
    flash(_("%(email)s is now active.", email=user.email) if action == "activate"
          else _("%(email)s is now inactive.", email=user.email), "info")
    return redirect(safe_next("admin.users"), code=303)


@bp.route("/users/<int:user_id>", endpoint="user")
def edit_user(user_id: int):
    """A user's name, e-mail, rights and teams; deactivation; a password reset by link or temporary password."""
    require_admin()
    user = users.get_or_raise(db.session, user_id=user_id)
    return _user_page(user)


def _user_page(user, *, link: str | None = None, status: int = 200):
    form = UserEditForm(formdata=None, data={"name": user.name, "email": user.email, "is_admin": user.is_admin,
                                             "locale": user.locale, "team_ids": [team.id for team in user.teams]})
    form.team_ids.choices = _team_choices()
    return render_template("admin/user.html", user=user, form=form, password_form=TemporaryPasswordForm(formdata=None),
                           action_form=ActionForm(), link=link,
                           link_hours=int(resets.LINK_LIFETIME.total_seconds() // 3600)), status


def _team_choices() -> list:
    teams_ = db.session.scalars(users.list_teams(db.session).limit(PRINCIPAL_CHOICES)).all()
    return choices((team.id, team.name) for team in teams_)


@bp.route("/users/<int:user_id>", methods=["POST"])
def update_user(user_id: int):
    """Save a user's name, e-mail, language, administrator flag and teams (the service checks each)."""
    admin = require_admin()
    user = users.get_or_raise(db.session, user_id=user_id)
    form = check(UserEditForm())
    users.update(db.session, actor=admin, user=user, name=form.name.data, email=form.email.data,
                 locale=form.locale.data, is_admin=form.is_admin.data, team_ids=form.team_ids.data)
    if user.id == admin.id:
        refresh_stamp(admin)
    flash(_("%(email)s saved.", email=user.email), "info")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>/reset-link", methods=["POST"])
def reset_link(user_id: int):
    """A one-time link for the user to set a new password, shown this once for the administrator to hand over."""
    admin = require_admin()
    user = users.get_or_raise(db.session, user_id=user_id)
    check(ActionForm())
    _reset, token = resets.create_link(db.session, actor=admin, user=user)
    return _user_page(user, link=url_for("reset.password", token=token, _external=True), status=201)


@bp.route("/users/<int:user_id>/temporary-password", methods=["POST"])
def temporary_password(user_id: int):
    """Give the user a temporary password, to be changed at their next login; their sessions end."""
    admin = require_admin()
    user = users.get_or_raise(db.session, user_id=user_id)
    form = check(TemporaryPasswordForm())
    resets.set_temporary_password(db.session, actor=admin, user=user, password=form.password.data)
    flash(_("%(email)s has a temporary password now and will choose a new one at the next login.",
            email=user.email), "info")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


# Teams


@bp.route("/teams")
def teams():
    """All teams with their sizes, and the form to add one."""
    require_admin()
    page = paginate(db.session, users.list_teams(db.session))
    return render_template("admin/teams.html", page=page, form=TeamCreateForm())


@bp.route("/teams", methods=["POST"])
def create_team():
    admin = require_admin()
    form = check(TeamCreateForm())
    team = users.create_team(db.session, actor=admin, name=form.name.data)
    flash(_("Team %(name)s created.", name=team.name), "info")
    return redirect(url_for("admin.team", team_id=team.id), code=303)


@bp.route("/teams/<int:team_id>")
def team(team_id: int):
    """A team's members, with forms to add and remove them."""
    require_admin()
    team = users.get_team_or_raise(db.session, team_id=team_id)
    form = MemberForm()
    member_ids = {member.id for member in team.members}
    who = _who()
    candidates, matching = queries.people_picker(db.session, limit=PRINCIPAL_CHOICES, exclude_ids=member_ids,
                                                search=who)
    form.user_id.choices = choices((user.id, f"{user.name} <{user.email}>") for user in candidates)
    grants_page = paginate(db.session, grants.list_(db.session, actor=g.user, team_id=team.id))
    return render_template("admin/team.html", team=team, form=form, action_form=ActionForm(),
                           rename_form=TeamCreateForm(formdata=None, data={"name": team.name}),
                           grants_page=grants_page, picker=_picker(who, len(candidates), matching))


@bp.route("/teams/<int:team_id>/rename", methods=["POST"])
def rename_team(team_id: int):
    admin = require_admin()
    team = users.get_team_or_raise(db.session, team_id=team_id)
    form = check(TeamCreateForm())
    users.update_team(db.session, actor=admin, team=team, name=form.name.data)
    flash(_("Team renamed to %(name)s.", name=team.name), "info")
    return redirect(url_for("admin.team", team_id=team.id), code=303)


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
def add_member(team_id: int):
    admin = require_admin()
    team = users.get_team_or_raise(db.session, team_id=team_id)
    form = check(MemberForm())
    user = users.get_or_raise(db.session, user_id=form.user_id.data, field="user_id")
    users.update_team(db.session, actor=admin, team=team,
                      member_ids=[member.id for member in team.members] + [user.id])
    flash(_("%(name)s added to %(team)s.", name=user.name, team=team.name), "info")
    return redirect(url_for("admin.team", team_id=team.id), code=303)


@bp.route("/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
def remove_member(team_id: int, user_id: int):
    admin = require_admin()
    check(ActionForm())
    team = users.get_team_or_raise(db.session, team_id=team_id)
    users.update_team(db.session, actor=admin, team=team,
                      member_ids=[member.id for member in team.members if member.id != user_id])
    flash(_("Member removed from %(team)s.", team=team.name), "info")
    return redirect(url_for("admin.team", team_id=team.id), code=303)


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
def delete_team(team_id: int):
    admin = require_admin()
    check(ActionForm())
    team = users.get_team_or_raise(db.session, team_id=team_id)
    name = team.name
    users.delete_team(db.session, actor=admin, team=team)
    flash(_("Team %(name)s deleted; its grants went with it.", name=name), "info")
    return redirect(url_for("admin.teams"), code=303)


# Grants


@bp.route("/grants", endpoint="grants")
def list_grants():
    """Every grant, a page at a time, linking to the access page of its node or project."""
    require_admin()
    page = paginate(db.session, grants.list_(db.session, actor=g.user))
    return render_template("admin/grants.html", page=page)


def _target(kind: str, obj_id: int):
    if kind == "nodes":
        return services.get_node_or_raise(db.session, user=g.user, node_id=obj_id)
    return services.get_project_or_raise(db.session, user=g.user, project_id=obj_id)


def _who() -> str:
    """The picker's search text (part of a name or email), from the query string."""
    return request.args.get("who", "", type=str)[:100]


def _picker(who: str, shown: int, matching: int) -> dict:
    """What the template says about a people picker: the search, and how many of how many it lists."""
    return {"who": who, "shown": shown, "matching": matching, "limit": PRINCIPAL_CHOICES}


def _principal_choices(who: str) -> tuple[list[tuple[str, str]], dict]:
    session = db.session
    people, matching = queries.people_picker(session, limit=PRINCIPAL_CHOICES, search=who)
    teams_ = session.scalars(users.list_teams(session).limit(PRINCIPAL_CHOICES)).all()
    listed = choices([(f"t{team.id}", _("Team: %(name)s", name=team.name)) for team in teams_]
                     + [(f"u{user.id}", f"{user.name} <{user.email}>") for user in people])
    return listed, _picker(who, len(people), matching)


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/access")
def node_grants(kind: str, obj_id: int):
    """Who holds which role on a node or project (readers see the grants they may; managers change them)."""
    target = _target(kind, obj_id)
    access = access_to(db.session, user=g.user, obj=target)
    page = paginate(db.session, grants.list_(db.session, actor=g.user, target=target))
    can_manage = access.can(Permission.manage)
    form = GrantForm()
    picker = None
    if can_manage:
        form.principal.choices, picker = _principal_choices(_who())
    return render_template("admin/node_grants.html", target=target, kind=kind, page=page, can_manage=can_manage,
                           form=form, action_form=ActionForm(), picker=picker,
                           crumbs=services.breadcrumbs(db.session, user=g.user, obj=target))


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/access", methods=["POST"])
def add_grant(kind: str, obj_id: int):
    """Give a role on the node or project to a user or a team (manage rights; the service checks)."""
    target = _target(kind, obj_id)
    form = check(GrantForm())
    principal = form.principal.data or ""
    user = team = None
    if principal.startswith("u") and principal[1:].isdigit():
        user = users.get_or_raise(db.session, user_id=int(principal[1:]), field="principal")
    elif principal.startswith("t") and principal[1:].isdigit():
        team = users.get_team_or_raise(db.session, team_id=int(principal[1:]), field="principal")
    else:
        raise Invalid(_("Choose a user or a team."), errors={"principal": ["required"]})
    grants.create(db.session, actor=g.user, role=Role(form.role.data), target=target, user=user, team=team)
    flash(_("Access granted."), "info")
    return redirect(url_for("admin.node_grants", kind=kind, obj_id=target.id), code=303)


@bp.route("/grants/<int:grant_id>/remove", methods=["POST"])
def remove_grant(grant_id: int):
    """Take a grant away (manage rights on its target; the service checks)."""
    grant = grants.get_or_raise(db.session, actor=g.user, grant_id=grant_id)
    check(ActionForm())
    target = grant.target
    kind = "nodes" if isinstance(target, EpsNode) else "projects"
    grants.delete(db.session, actor=g.user, grant=grant)
    flash(_("Access removed."), "info")
    return redirect(url_for("admin.node_grants", kind=kind, obj_id=target.id), code=303)


# Preview


@bp.route("/preview")
def preview():
    """The EPS nodes and projects a chosen user can see, exactly as the services filter them for that user."""
    require_admin()
    session = db.session
    people = session.scalars(users.list_(session).limit(PRINCIPAL_CHOICES)).all()
    user_id = request.args.get("user_id", type=int)
    what = request.args.get("what", "nodes")
    subject = users.get(session, user_id=user_id) if user_id else None
    page = None
    held = []
    if subject is not None:
        query = (services.list_projects(session, user=subject) if what == "projects"
                 else services.list_nodes(session, user=subject))
        page = paginate(session, query, args={"user_id": subject.id, "what": what})
        held = session.scalars(grants.list_(session, actor=g.user, user_id=subject.id)).all()
        held += session.scalars(grants.list_(session, actor=g.user).where(
            Grant.team_id.in_(users.team_ids_of(session, user=subject)))).all()
    return render_template("admin/preview.html", people=people, subject=subject, what=what, page=page, held=held)
