"""Importing users: matched by email; teams and branch teams joined, created when missing.

A new user has no password and is active unless the mapping says ``"active":
false``. ``team`` names a team the user joins; ``region`` names a branch EPS node
(code or name) whose team (``"<code> branch"``) the user joins. No grants are
made: an administrator grants that team its rights on the branch once.
``manager`` has nowhere to be stored and is reported as ignored.
"""

from __future__ import annotations

from sqlalchemy import select

from crmpm.users import services as users
from crmpm.users.models import Team

from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress

PRELOAD: list = []
NOT_STORED = {"external_id", "manager"}


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the user rows in file order."""
    teams: dict[str, Team] = {}
    job.run_rows(records, lambda record: import_user(job, record, teams), progress)


def import_user(job: ImportJob, record: Record, teams: dict[str, Team]) -> str:
    """Create or update one user and add them to the row's teams."""
    fields = record.fields
    email = fields["email"]
    user = job.refs.user_with_email(email)
    names = []
    if fields.get("team"):
        names.append(fields["team"])
    if fields.get("region"):
        names.append(f"{job.refs.node(fields['region']).code} branch")
    active = fields.get("active")
    if user is None:
        user = users.create(job.session, actor=job.actor, email=email, name=fields["name"], password=None)
        if active is False:
            users.update(job.session, actor=job.actor, user=user, is_active=False)
        made = user
        job.after_commit(lambda: job.refs.add_user(made, email))
        outcome = "created"
    else:
        changes = {}
        if fields["name"] != user.name:
            changes["name"] = fields["name"]
        if active is not None and active != user.is_active:
            changes["is_active"] = active
        if changes:
            users.update(job.session, actor=job.actor, user=user, **changes)
        outcome = "updated" if changes else "unchanged"
    for name in names:
        team = team_named(job, teams, name)
        if user not in team.members:
            users.update_team(job.session, actor=job.actor, team=team,
                              member_ids=[member.id for member in team.members] + [user.id])
            if outcome == "unchanged":
                outcome = "updated"
    return outcome


def team_named(job: ImportJob, teams: dict[str, Team], name: str) -> Team:
    """The team with this name, created (and noted in the report) when missing; cached once the row commits."""
    if name in teams:
        return teams[name]
    team = job.session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = users.create_team(job.session, actor=job.actor, name=name)
        job.after_commit(lambda: job.report.notes.append(f"team {name!r} created"))
    job.after_commit(lambda: teams.__setitem__(name, team))
    return team
