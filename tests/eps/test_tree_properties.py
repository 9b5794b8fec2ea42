"""Random trees, grants, protections and moves, checked against a brute-force oracle.

The oracle keeps its own parent map in a networkx DiGraph and walks ancestors
one by one; crmpm answers from materialized paths in SQL. They must agree on
every path, every effective role and every visible list.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crmpm.errors import Conflict, NotFound
from eps import services
from eps.models import EpsNode, Project, Role
from eps.permissions import access_to, visible
from tests import factories

ROLES = list(Role)


@st.composite
def scenarios(draw):
    n_nodes = draw(st.integers(min_value=1, max_value=9))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n_nodes)]
    protected = [draw(st.booleans()) for _ in range(n_nodes)]
    projects = draw(st.lists(st.tuples(st.integers(0, n_nodes - 1), st.booleans()), max_size=5))
    targets = [("node", i) for i in range(n_nodes)] + [("project", i) for i in range(len(projects))]
    grants = draw(st.lists(st.tuples(st.sampled_from(["u1", "u2", "team"]), st.sampled_from(targets),
                                     st.sampled_from(ROLES)), max_size=6, unique=True))
    operations = draw(st.lists(st.one_of(
        st.tuples(st.just("move"), st.integers(0, n_nodes - 1), st.one_of(st.none(), st.integers(0, n_nodes - 1))),
        st.tuples(st.just("protect"), st.integers(0, n_nodes - 1), st.booleans()),
        st.tuples(st.just("move_project"), st.integers(0, max(len(projects) - 1, 0)), st.integers(0, n_nodes - 1)),
    ), max_size=6))
    return parents, protected, projects, grants, operations


def _oracle_roles(graph: nx.DiGraph, obj: str, grants_by_object: dict, principals: set[str]) -> set[Role]:
    """Walk from ``obj`` up its ancestors, collecting grants, stopping after a protected one."""
    roles, current = set(), obj
    while current is not None:
        roles |= {role for who, role in grants_by_object.get(current, ()) if who in principals}
        if graph.nodes[current]["protected"]:
            break
        parents = list(graph.predecessors(current))
        current = parents[0] if parents else None
    return roles


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(scenario=scenarios())
def test_paths_access_and_lists_match_oracle(session, scenario):
    parents, protected, projects, grants, operations = scenario
    nested = session.begin_nested()
    try:
        _check(session, parents, protected, projects, grants, operations)
    finally:
        nested.rollback()
        session.expire_all()


def _check(session, parents, protected, projects, grants, operations):
    admin = factories.admin(session)
    u1, u2 = factories.user(session), factories.user(session)
    team = factories.team(session, members=[u2])
    graph = nx.DiGraph()
    nodes = []
    for i, parent in enumerate(parents):
        node = services.create_node(session, actor=admin, code=f"N{i}", name=f"N{i}",
                                    parent=nodes[parent] if parent is not None else None, protected=protected[i])
        nodes.append(node)
        graph.add_node(f"n{i}", protected=protected[i])
        if parent is not None:
            graph.add_edge(f"n{parent}", f"n{i}")
    project_rows = []
    for j, (node_index, is_protected) in enumerate(projects):
        project = services.create_project(session, actor=admin, code=f"P{j}", name=f"P{j}",
                                          eps_node=nodes[node_index], protected=is_protected)
        project_rows.append(project)
        graph.add_node(f"p{j}", protected=is_protected)
        graph.add_edge(f"n{node_index}", f"p{j}")

    grants_by_object: dict[str, list] = {}
    holders = {"u1": {"user": u1}, "u2": {"user": u2}, "team": {"team": team}}
    for who, (kind, index), role in grants:
        target = nodes[index] if kind == "node" else project_rows[index]
        factories.grant(session, actor=admin, role=role, target=target, **holders[who])
        grants_by_object.setdefault(f"{kind[0]}{index}", []).append((who, role))

    for operation in operations:
        if operation[0] == "move":
            _, index, new_parent = operation
            target = nodes[new_parent] if new_parent is not None else None
            would_cycle = new_parent is not None and (
                new_parent == index or f"n{new_parent}" in nx.descendants(graph, f"n{index}"))
            try:
                services.move_node(session, actor=admin, node=nodes[index], new_parent=target)
            except Conflict:
                assert would_cycle
                continue
            assert not would_cycle
            for old in list(graph.predecessors(f"n{index}")):
                graph.remove_edge(old, f"n{index}")
            if new_parent is not None:
                graph.add_edge(f"n{new_parent}", f"n{index}")
        elif operation[0] == "protect":
            _, index, flag = operation
            services.update_node(session, actor=admin, node=nodes[index], protected=flag)
            graph.nodes[f"n{index}"]["protected"] = flag
        elif project_rows:
            _, index, node_index = operation
            services.move_project(session, actor=admin, project=project_rows[index], eps_node=nodes[node_index])
            for old in list(graph.predecessors(f"p{index}")):
                graph.remove_edge(old, f"p{index}")
            graph.add_edge(f"n{node_index}", f"p{index}")
    session.flush()
    session.expire_all()

    # Paths: the id chain from the root, as networkx sees it.
    def db_segment(key):
        return f"{nodes[int(key[1:])].id:010d}" if key[0] == "n" else f"p{project_rows[int(key[1:])].id:010d}"

    for obj, key in [*((n, f"n{i}") for i, n in enumerate(nodes)), *((p, f"p{j}") for j, p in enumerate(project_rows))]:
        root = next(k for k in [*nx.ancestors(graph, key), key] if graph.in_degree(k) == 0)
        chain = nx.shortest_path(graph, root, key)
        assert obj.path == "/" + "".join(f"{db_segment(k)}/" for k in chain)

    principals = {u1.id: {"u1"}, u2.id: {"u2", "team"}}
    readable = {}
    for user in (u1, u2):
        readable_nodes, readable_projects = set(), set()
        for obj, key in [*((n, f"n{i}") for i, n in enumerate(nodes)),
                         *((p, f"p{j}") for j, p in enumerate(project_rows))]:
            expected_roles = _oracle_roles(graph, key, grants_by_object, principals[user.id])
            assert access_to(session, user=user, obj=obj).roles == expected_roles, (key, user.email)
            if expected_roles:
                (readable_nodes if key[0] == "n" else readable_projects).add(obj.id)
        assert set(session.scalars(select(EpsNode.id).where(visible(session, user=user, model=EpsNode)))) \
            == readable_nodes
        assert set(session.scalars(select(Project.id).where(visible(session, user=user, model=Project)))) \
            == readable_projects
        readable[user.id] = (readable_nodes, readable_projects)
    _check_documents(session, admin, nodes, project_rows, (u1, u2), readable)


def _check_documents(session, admin, nodes, project_rows, users, readable):
    """A document on every node's account and every project is read exactly where the oracle reads its anchor."""
    from accounts import services as crm_services
    from accounts.documents import services as documents

    on_node, on_project = {}, {}
    for i, node in enumerate(nodes):
        if node.parent_id is None:
            continue  # an account's node hangs under a branch
        account = crm_services.create_account(session, actor=admin, name=f"Account N{i}", eps_node=node)
        on_node[node.id] = documents.add_document(session, actor=admin, subject=account, name=f"n{i}.txt",
                                                  kind="other", data=b"anchor").id
    for j, project in enumerate(project_rows):
        on_project[project.id] = documents.add_document(session, actor=admin, subject=project, name=f"p{j}.txt",
                                                        kind="other", data=b"anchor").id
    session.flush()
    for user in users:
        readable_nodes, readable_projects = readable[user.id]
        expected = ({on_node[node_id] for node_id in readable_nodes if node_id in on_node}
                    | {on_project[project_id] for project_id in readable_projects})
        found = {document.id for document in session.scalars(documents.search_documents(session, user=user))}
        assert found == expected, user.email
        for document_id in [*on_node.values(), *on_project.values()]:
            try:
                documents.get_document_or_raise(session, user=user, document_id=document_id)
                seen = True
            except NotFound:
                seen = False
            assert seen == (document_id in expected), (user.email, document_id)
