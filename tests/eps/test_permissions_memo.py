"""The caller's grant paths are read once per transaction, and never outlive a change."""

from __future__ import annotations

from sqlalchemy import event, update

from crmpm.database import bulk_insert
from eps.models import EpsNode, Role
from eps.permissions import principal_grant_paths, reads_everything
from tests import factories


def _selects(session):
    statements = []
    engine = session.get_bind()

    def listener(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return statements, lambda: event.remove(engine, "before_cursor_execute", listener)


def _tree(session):
    admin = factories.admin(session)
    top = factories.node(session, actor=admin)
    left = factories.node(session, actor=admin, parent=top)
    right = factories.node(session, actor=admin, parent=top)
    seller = factories.user(session)
    return admin, top, left, right, seller


def test_grant_paths_and_reads_everything_cost_one_statement_per_transaction(session):
    _admin, top, _left, _right, seller = _tree(session)
    factories.grant(session, actor=_admin, role=Role.viewer, target=top, user=seller)
    session.commit()
    statements, stop = _selects(session)
    try:
        paths = principal_grant_paths(session, user=seller)
        assert principal_grant_paths(session, user=seller) == paths == [top.path]
        assert reads_everything(session, user=seller, paths=paths) is True
        assert len(statements) == 1
        session.commit()
        principal_grant_paths(session, user=seller)
        assert len(statements) == 2  # a new transaction reads them again
    finally:
        stop()


def test_a_grant_made_in_the_same_transaction_is_seen_at_once(session):
    admin, _top, left, right, seller = _tree(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=left, user=seller)
    assert principal_grant_paths(session, user=seller) == [left.path]
    assert reads_everything(session, user=seller, paths=[left.path]) is False
    factories.grant(session, actor=admin, role=Role.editor, target=right, user=seller)
    assert principal_grant_paths(session, user=seller) == sorted([left.path, right.path])
    assert principal_grant_paths(session, user=seller, roles=(Role.editor,)) == [right.path]


def test_protecting_a_node_ends_reading_everything_within_the_transaction(session):
    admin, top, left, _right, seller = _tree(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=top, user=seller)
    paths = principal_grant_paths(session, user=seller)
    assert reads_everything(session, user=seller, paths=paths) is True
    session.execute(update(EpsNode).where(EpsNode.id == left.id).values(protected=True))  # not through a flush
    assert reads_everything(session, user=seller, paths=principal_grant_paths(session, user=seller)) is False


def test_a_bulk_insert_forgets_what_was_read(session):
    admin, top, _left, _right, seller = _tree(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=top, user=seller)
    paths = principal_grant_paths(session, user=seller)
    assert reads_everything(session, user=seller, paths=paths) is True
    statements, stop = _selects(session)
    try:
        bulk_insert(session, EpsNode.__table__, [])  # nothing inserted: nothing forgotten
        assert principal_grant_paths(session, user=seller) == paths
        assert statements == []
        # A second root, written past the ORM: the seller no longer reads everything.
        bulk_insert(session, EpsNode.__table__, [{"code": "ROOT2", "name": "Second root", "parent_id": None,
                                                  "path": "/0000009999/", "depth": 0, "protected": False,
                                                  "protect_path": ""}])
        assert reads_everything(session, user=seller, paths=principal_grant_paths(session, user=seller)) is False
        assert len(statements) == 1
    finally:
        stop()


def _read_with_a_user(session, user):
    """What ``GRANTS_WITH_USER`` leaves in a new transaction's memo, read by a statement about ``user``."""
    from sqlalchemy import select

    from crmpm.database import transaction_memo
    from crmpm.rows import fetch_all
    from crmpm.users.models import User
    from eps.permissions import GRANTS_WITH_USER

    session.commit()
    [(value,)] = fetch_all(session, select(GRANTS_WITH_USER.column).where(User.__table__.c.id == user.id))
    GRANTS_WITH_USER.remember(session, user, value)
    return dict(transaction_memo(session))


def _read_on_their_own(session, user):
    session.commit()
    paths = principal_grant_paths(session, user=user)
    return paths, reads_everything(session, user=user, paths=paths)


def test_grants_read_with_the_user_are_those_read_on_their_own(session):
    admin, top, left, right, seller = _tree(session)
    team_member, nobody = factories.user(session), factories.user(session)
    team = factories.team(session, members=[team_member])
    project = factories.project(session, actor=admin, node=right)
    factories.grant(session, actor=admin, role=Role.viewer, target=top, user=seller)
    factories.grant(session, actor=admin, role=Role.editor, target=left, user=seller)
    factories.grant(session, actor=admin, role=Role.viewer, target=left, team=team)
    factories.grant(session, actor=admin, role=Role.editor, target=project, user=team_member)
    second_root = factories.node(session, actor=admin)
    cases = {"seller": seller, "team member": team_member, "nobody": nobody}
    for name, user in cases.items():
        expected_paths, expected_everything = _read_on_their_own(session, user)
        memo = _read_with_a_user(session, user)
        assert memo[("grant paths", user.id, None)] == expected_paths, name
        assert memo[("reads everything", user.id, tuple(expected_paths))] is expected_everything, name
        # The memo answers the question without a statement of its own.
        statements, stop = _selects(session)
        try:
            assert principal_grant_paths(session, user=user) == expected_paths
            assert reads_everything(session, user=user, paths=expected_paths) is expected_everything
            assert statements == []
        finally:
            stop()
    # Independently: the team member's grants are the team's node and their own project.
    assert _read_on_their_own(session, team_member)[0] == sorted([left.path, project.path])
    # A grant on every root, then something protected below: reading everything ends.
    factories.grant(session, actor=admin, role=Role.viewer, target=second_root, user=seller)
    assert _read_with_a_user(session, seller)[("reads everything", seller.id,
                                               tuple(sorted([top.path, left.path, second_root.path])))] is True
    session.execute(update(EpsNode).where(EpsNode.id == right.id).values(protected=True))
    assert _read_with_a_user(session, seller)[("reads everything", seller.id,
                                               tuple(sorted([top.path, left.path, second_root.path])))] is False
