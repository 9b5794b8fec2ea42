"""``crmpm eps create`` and ``crmpm eps import``, run as real processes against a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.audit.models import AuditEntry
from crmpm.database import make_engine
from crmpm.users.models import User
from eps.models import EpsNode
from tests import factories
from wbs import codes, services as wbs_services
from wbs.models import ActivityCodeAssignment


@pytest.fixture
def crmpm(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "CRMPM_DATABASE_URL": url}

    def run(*args, check=True):
        result = subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                                timeout=120)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    run("db", "upgrade")
    run("users", "create", "boss@example.test", "--password", "long-password", "--admin")
    run.url = url
    return run


def _nodes(url) -> dict[str, tuple[str, str | None, bool, str]]:
    """code -> (name, parent code, protected, path) as stored."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(EpsNode.id, EpsNode.code, EpsNode.name, EpsNode.parent_id,
                                             EpsNode.protected, EpsNode.path)).all()
    finally:
        engine.dispose()
    codes = {row.id: row.code for row in rows}
    return {row.code: (row.name, codes.get(row.parent_id), row.protected, row.path) for row in rows}


def _write(tmp_path, text: str, name: str = "eps.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_create_roots_and_children(crmpm):
    root = crmpm("eps", "create", "CORP", "Corporation")
    assert root.stdout.startswith("created EPS node CORP (id ") and root.stdout.count("\n") == 1
    crmpm("eps", "create", "ENG", "Engineering", "--parent", "CORP", "--protected")
    nodes = _nodes(crmpm.url)
    assert nodes["CORP"][:3] == ("Corporation", None, False)
    assert nodes["ENG"][:3] == ("Engineering", "CORP", True)
    assert nodes["ENG"][3].startswith(nodes["CORP"][3])


def test_create_errors_are_one_line_and_write_nothing(crmpm):
    crmpm("eps", "create", "CORP", "Corporation")
    again = crmpm("eps", "create", "CORP", "Again", check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "already exists" in again.stderr
    orphan = crmpm("eps", "create", "LOST", "Lost", "--parent", "NOPE", check=False)
    assert orphan.returncode == 2 and orphan.stderr.strip() == "error: no EPS node with code NOPE"
    long_code = crmpm("eps", "create", "X" * 41, "Too long", check=False)
    assert long_code.returncode == 2 and "code at most 40 characters" in long_code.stderr
    stranger = crmpm("eps", "create", "MINE", "Mine", "--as", "nobody@example.test", check=False)
    assert stranger.returncode == 2 and "no active user" in stranger.stderr
    assert all("Traceback" not in r.stderr for r in (again, orphan, long_code, stranger))
    assert set(_nodes(crmpm.url)) == {"CORP"}


def test_import_places_children_before_their_parents_and_is_idempotent(crmpm, tmp_path):
    crmpm("eps", "create", "CORP", "Corporation")
    path = _write(tmp_path, "code,name,parent,protected\n"
                            "ENG.A,Line A,ENG,\n"
                            "ENG,Engineering,CORP,yes\n"
                            "SPB,\"St Petersburg, office\",,no\n"
                            "SPB.1,Первый участок,SPB,false\n")
    first = crmpm("eps", "import", path)
    assert first.stdout.strip() == f"{path}: 4 created, 0 updated, 0 unchanged"
    nodes = _nodes(crmpm.url)
    assert {code: nodes[code][:3] for code in nodes} == {
        "CORP": ("Corporation", None, False), "ENG": ("Engineering", "CORP", True),
        "ENG.A": ("Line A", "ENG", False), "SPB": ("St Petersburg, office", None, False),
        "SPB.1": ("Первый участок", "SPB", False)}
    again = crmpm("eps", "import", path)
    assert again.stdout.strip() == f"{path}: 0 created, 0 updated, 4 unchanged"
    assert _nodes(crmpm.url) == nodes
    changed = _write(tmp_path, "name,code,parent\nLine A (renamed),ENG.A,SPB\n", "changed.csv")
    moved = crmpm("eps", "import", changed)
    assert moved.stdout.strip() == f"{changed}: 0 created, 1 updated, 0 unchanged"
    after = _nodes(crmpm.url)
    assert after["ENG.A"][:3] == ("Line A (renamed)", "SPB", False)
    assert after["ENG.A"][3].startswith(after["SPB"][3])


def test_import_moving_a_node_drops_the_eps_codes_of_the_branch_its_projects_left(crmpm, tmp_path):
    """The command moves through the EPS services alone; the WBS hears of the move all the same."""
    for args in (("CORP", "Corporation"), ("ENG", "Engineering", "--parent", "CORP"), ("SPB", "St Petersburg"),
                 ("LINE", "Line", "--parent", "ENG")):
        crmpm("eps", "create", *args)
    engine = make_engine(crmpm.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            admin = session.scalar(select(User))
            nodes = {node.code: node for node in session.scalars(select(EpsNode))}
            project = factories.project(session, actor=admin, node=nodes["LINE"], code="Q")
            activity = wbs_services.create_activity(session, actor=admin, project=project, code="A1", name="Dig")
            held = {}
            for code in ("ENG", "LINE"):
                code_type = codes.create_code_type(session, actor=admin, scope="eps", name=f"{code} area",
                                                   eps_node=nodes[code])
                held[code_type.id] = codes.create_code_value(session, actor=admin, code_type=code_type, value="X").id
            codes.set_activity_codes(session, actor=admin, project=project, activity=activity, values=held)
            session.commit()
        line_type = max(held)  # LINE's type, made last, goes with its node; ENG's stays behind
        moved = crmpm("eps", "import", _write(tmp_path, "code,name,parent\nLINE,Line,SPB\n"))
        assert moved.stdout.strip().endswith("0 created, 1 updated, 0 unchanged")
        with Session(engine) as session:
            assert session.execute(select(ActivityCodeAssignment.type_id, ActivityCodeAssignment.value_id)
                                   .where(ActivityCodeAssignment.activity_id == activity.id)).all() \
                == [(line_type, held[line_type])]
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "drop_codes")).one()
            assert (entry.entity_type, entry.entity_id, entry.actor_id) == ("projects", project.id, admin.id)
            assert entry.before == {"code_assignments": 1, "code_types": ["ENG area"]}
    finally:
        engine.dispose()


def test_import_is_all_or_nothing_with_every_error_by_line(crmpm, tmp_path):
    path = _write(tmp_path, "code,name,parent,protected\n"
                            "GOOD,Good,,\n"
                            "ORPHAN,Orphan,NOWHERE,\n"
                            "BADFLAG,Bad flag,,maybe\n"
                            ",No code,,\n"
                            "GOOD,Twice,,\n"
                            "SHORT,Short\n")
    result = crmpm("eps", "import", path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: the EPS file has 4 error(s): ")
    for expected in ("line 4: protected must be yes or no, not 'maybe'", "line 5: code required",
                     "line 6: code GOOD is already on line 2", "line 7: 2 values for 4 columns"):
        assert expected in message
    assert _nodes(crmpm.url) == {}
    # Rows checked one by one pass; their parents are checked against the database next.
    parents = _write(tmp_path, "code,name,parent\nGOOD,Good,\nORPHAN,Orphan,NOWHERE\nA,A,B\nB,B,A\n", "parents.csv")
    refused = crmpm("eps", "import", parents, check=False)
    assert refused.returncode == 2
    assert "line 3: parent NOWHERE is neither in the file nor an existing EPS node" in refused.stderr
    assert "parents form a loop" in refused.stderr and "lines 4, 5" in refused.stderr
    assert _nodes(crmpm.url) == {}


def test_import_refusals_while_writing_name_the_line_and_roll_back(crmpm, tmp_path):
    crmpm("eps", "create", "CORP", "Corporation")
    crmpm("eps", "create", "ENG", "Engineering", "--parent", "CORP")
    # Moving CORP under its own child ENG is refused by the EPS rules, after the new node was written.
    path = _write(tmp_path, "code,name,parent\nNEW,New,\nCORP,Corporation,ENG\n")
    result = crmpm("eps", "import", path, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: line 3: cannot move EPS node CORP")
    assert set(_nodes(crmpm.url)) == {"CORP", "ENG"}


def test_import_header_and_encoding_errors(crmpm, tmp_path):
    header = crmpm("eps", "import", _write(tmp_path, "id,title\n1,x\n"), check=False)
    assert header.returncode == 2 and "first line must name the columns code, name" in header.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("code,name\nA,Caf\xe9\n".encode("latin-1"))
    encoding = crmpm("eps", "import", str(latin), check=False)
    assert encoding.returncode == 2 and "not UTF-8" in encoding.stderr
