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
