"""Demo data: users and teams here, the rest from each installed domain (``crmpm.demo`` entry points)."""

from __future__ import annotations

from importlib.metadata import entry_points

from sqlalchemy.orm import Session

from crmpm.users import services as users

PASSWORD = "demo-pass-2026"

# email, name, admin, team
PEOPLE = [
    ("admin@crmpm.local", "Alexandra Admin", True, None),
    ("am@crmpm.local", "Anna Sokolova", False, "Sales"),
    ("am2@crmpm.local", "Ivan Kuznetsov", False, "Sales"),
    ("pm@crmpm.local", "Pavel Morozov", False, "PMO"),
    ("finance@crmpm.local", "Fedor Volkov", False, "Finance"),
    ("cfo@crmpm.local", "Olga Belova", False, "Finance"),
]

LOGINS = [
    ("admin@crmpm.local", PASSWORD, "administrator"),
    ("am@crmpm.local", PASSWORD, "account manager"),
    ("pm@crmpm.local", PASSWORD, "project manager"),
    ("finance@crmpm.local", PASSWORD, "finance"),
]


def load(session: Session) -> bool:
    """Create the demo data unless it exists; True if it was created."""
    if users.get_by_email(session, email=PEOPLE[0][0]) is not None:
        return False
    people = {}
    for email, name, admin, _team in PEOPLE:
        people[email] = users.create(session, actor=None, email=email, name=name, password=PASSWORD, is_admin=admin)
    teams = {}
    for team_name in sorted({team for *_rest, team in PEOPLE if team}):
        members = [people[email].id for email, *_rest, team in PEOPLE if team == team_name]
        teams[team_name] = users.create_team(session, actor=None, name=team_name, member_ids=members)
    admin = people[PEOPLE[0][0]]
    for entry in sorted(entry_points(group="crmpm.demo"), key=lambda e: e.name):
        entry.load()(session, admin=admin, people=people, teams=teams)
    return True
