"""``eps.permissions.accesses`` (a tree's rights from one read of the grants) agrees with ``access_to``."""

from __future__ import annotations

from eps.models import Role
from eps.permissions import access_to, accesses
from tests import factories


def test_the_rights_on_a_whole_tree_are_those_of_access_to_one_by_one(session):
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="R")
    a = factories.node(session, actor=admin, parent=root, code="A")
    a1 = factories.node(session, actor=admin, parent=a, code="A1")
    shut = factories.node(session, actor=admin, parent=a, code="SHUT", protected=True)
    b = factories.node(session, actor=admin, parent=root, code="B")
    pa = factories.project(session, actor=admin, node=a1, code="PA")
    ps = factories.project(session, actor=admin, node=shut, code="PS")
    pb = factories.project(session, actor=admin, node=b, code="PB")
    user, member = factories.user(session), factories.user(session)
    team = factories.team(session, members=[member])
    factories.grant(session, actor=admin, role=Role.manager, target=a, user=user)
    factories.grant(session, actor=admin, role=Role.viewer, target=pb, user=user)
    factories.grant(session, actor=admin, role=Role.editor, target=a1, team=team)
    objects = [root, a, a1, shut, b, pa, ps, pb]
    for who in (user, member, admin):
        one_by_one = [access_to(session, user=who, obj=obj) for obj in objects]
        assert [x.permissions for x in accesses(session, user=who, objects=objects)] == \
            [x.permissions for x in one_by_one]
    # The figures themselves: the manager of A manages A, A1 and PA, not the protected node or its project.
    rights = [sorted(p.value for p in x.permissions) for x in accesses(session, user=user, objects=objects)]
    assert rights == [[], ["edit", "manage", "read"], ["edit", "manage", "read"], [], [],
                      ["edit", "manage", "read"], [], ["read"]]
