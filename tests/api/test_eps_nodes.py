"""EPS nodes over HTTP: create, read, rename, move, delete, children, subtree, breadcrumbs."""

from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from eps.models import EpsNode, Project
from tests import factories
from wbs import codes
from wbs import services as wbs_services

NODES = "/api/v1/eps/nodes"


def _create(api, user, code, parent_id=None, **extra):
    return api.post(NODES, user=user, json={"code": code, "name": f"Node {code}", "parent_id": parent_id, **extra})


def test_create_returns_id_and_builds_path(api, admin):
    root = _create(api, admin, "ENT")
    assert root.status_code == 201
    child = _create(api, admin, "MSK", root.json["id"])
    assert child.status_code == 201
    assert child.json["parent_id"] == root.json["id"]
    assert child.json["path"] == f"/{root.json['id']:010d}/{child.json['id']:010d}/"
    assert child.json["depth"] == 1


def test_duplicate_code_is_409_naming_code(api, admin):
    assert _create(api, admin, "ENT").status_code == 201
    response = _create(api, admin, "ENT")
    assert response.status_code == 409
    assert response.json["errors"] == {"code": ["already in use"]}
    assert response.json["code"] == 409 and response.json["status"] == "Conflict"


def test_list_is_paginated_with_items(api, admin):
    root = _create(api, admin, "ROOT").json["id"]
    for n in range(5):
        _create(api, admin, f"C{n}", root)
    response = api.get(f"{NODES}?per_page=2&page=2", user=admin)
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 6 and body["pages"] == 3 and body["page"] == 2 and body["per_page"] == 2
    assert len(body["items"]) == 2


def test_rename_and_audit(api, admin, session):
    node_id = _create(api, admin, "ENT").json["id"]
    response = api.patch(f"{NODES}/{node_id}", user=admin, json={"name": "Enterprise Ltd"})
    assert response.status_code == 200 and response.json["name"] == "Enterprise Ltd"
    trail = api.get(f"/api/v1/audit?entity_type=eps_nodes&entity_id={node_id}", user=admin).json["items"]
    assert [entry["action"] for entry in trail] == ["update", "create"]
    assert trail[0]["before"]["name"] == "Node ENT" and trail[0]["after"]["name"] == "Enterprise Ltd"
    assert trail[0]["actor_id"] == admin.id


def test_move_subtree_rewrites_descendant_paths(api, admin, session):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    b = _create(api, admin, "B", ent).json["id"]
    a1 = _create(api, admin, "A1", a).json["id"]
    a11 = _create(api, admin, "A11", a1).json["id"]
    project = api.post("/api/v1/projects", user=admin, json={"code": "PA11", "name": "P", "eps_node_id": a11}).json
    response = api.post(f"{NODES}/{a}/move", user=admin, json={"parent_id": b})
    assert response.status_code == 200, response.json
    def path(*ids, project=None):
        return "/" + "".join(f"{i:010d}/" for i in ids) + (f"p{project:010d}/" if project else "")

    assert response.json["path"] == path(ent, b, a)
    assert api.get(f"{NODES}/{a11}", user=admin).json["path"] == path(ent, b, a, a1, a11)
    assert api.get(f"{NODES}/{a11}", user=admin).json["depth"] == 4
    assert api.get(f"/api/v1/projects/{project['id']}", user=admin).json["path"] == path(ent, b, a, a1, a11,
                                                                                        project=project["id"])
    subtree = api.get(f"{NODES}/{b}/subtree", user=admin).json
    assert [item["code"] for item in subtree["items"]] == ["A", "A1", "A11"]


def test_move_under_itself_or_descendant_is_409_naming_both(api, admin):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    a1 = _create(api, admin, "A1", a).json["id"]
    for target, code in ((a, "A"), (a1, "A1")):
        response = api.post(f"{NODES}/{a}/move", user=admin, json={"parent_id": target})
        assert response.status_code == 409
        assert "A" in response.json["message"] and code in response.json["message"]
        assert "parent_id" in response.json["errors"]
    assert api.get(f"{NODES}/{a}", user=admin).json["parent_id"] == ent


def test_delete_refused_while_children_or_projects(api, admin, session):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    response = api.delete(f"{NODES}/{ent}", user=admin)
    assert response.status_code == 409 and "1 child node" in response.json["message"]
    api.post("/api/v1/projects", user=admin, json={"code": "PA", "name": "P", "eps_node_id": a})
    response = api.delete(f"{NODES}/{a}", user=admin)
    assert response.status_code == 409 and "1 project" in response.json["message"]
    assert session.scalar(select(func.count()).select_from(EpsNode)) == 2


def test_delete_empty_node(api, admin, session):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    assert api.delete(f"{NODES}/{a}", user=admin).status_code == 204
    assert api.get(f"{NODES}/{a}", user=admin).status_code == 404
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "eps_nodes", AuditEntry.entity_id == a, AuditEntry.action == "delete")) == 1


def test_children_and_breadcrumbs(api, admin):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    _create(api, admin, "B", ent)
    a1 = _create(api, admin, "A1", a).json["id"]
    children = api.get(f"{NODES}/{ent}/children", user=admin).json["items"]
    assert [c["code"] for c in children] == ["A", "B"]
    crumbs = api.get(f"{NODES}/{a1}/breadcrumbs", user=admin).json["items"]
    assert [c["code"] for c in crumbs] == ["ENT", "A"]


def test_breadcrumbs_hide_unreadable_ancestors(api, admin, session):
    ent = factories.node(session, actor=admin, code="ENT")
    a = factories.node(session, actor=admin, parent=ent, code="A")
    a1 = factories.node(session, actor=admin, parent=a, code="A1")
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role="viewer", target=a, user=viewer)
    session.commit()
    crumbs = api.get(f"{NODES}/{a1.id}/breadcrumbs", user=viewer).json["items"]
    assert [c["code"] for c in crumbs] == ["A"]


def test_projects_crud_and_move(api, admin, session):
    ent = _create(api, admin, "ENT").json["id"]
    a = _create(api, admin, "A", ent).json["id"]
    b = _create(api, admin, "B", ent).json["id"]
    created = api.post("/api/v1/projects", user=admin, json={"code": "P1", "name": "Pipeline", "eps_node_id": a})
    assert created.status_code == 201
    pid = created.json["id"]
    assert api.patch(f"/api/v1/projects/{pid}", user=admin, json={"planned_cost": "100.50"}).json["planned_cost"] == "100.50"
    moved = api.post(f"/api/v1/projects/{pid}/move", user=admin, json={"eps_node_id": b})
    assert moved.status_code == 200 and moved.json["eps_node_id"] == b
    listed = api.get(f"/api/v1/projects?eps_node_id={b}", user=admin).json
    assert [p["code"] for p in listed["items"]] == ["P1"]
    assert api.delete(f"/api/v1/projects/{pid}", user=admin).status_code == 204
    assert session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_move_names_the_eps_code_values_it_removed(api, admin, session):
    home = factories.node(session, actor=admin, code="HOME")
    away = factories.node(session, actor=admin, code="AWAY")
    inner = factories.node(session, actor=admin, parent=home, code="HOME.1")
    project = factories.project(session, actor=admin, node=inner, code="P1")
    other = factories.project(session, actor=admin, node=inner, code="P2")
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A1", name="Dig")
    area = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=home)
    value = codes.create_code_value(session, actor=admin, code_type=area, value="N")
    codes.set_activity_codes(session, actor=admin, project=project, activity=activity, values={area.id: value.id})
    session.commit()
    moved = api.post(f"/api/v1/eps/nodes/{inner.id}/move", user=admin, json={"parent_id": away.id})
    assert moved.status_code == 200 and moved.json["parent_id"] == away.id
    assert moved.json["warnings"] == ["project P1: 1 activity code values of EPS code types that do not apply in "
                                      "its new place were removed (Area)"]
    assert codes.activity_codes(session, activity=activity) == []
    again = api.post(f"/api/v1/projects/{other.id}/move", user=admin, json={"eps_node_id": home.id})
    assert again.status_code == 200 and again.json["eps_node_id"] == home.id and again.json["warnings"] == []


def test_unauthenticated_is_401(api):
    response = api.get(NODES)
    assert response.status_code == 401
    assert response.json["code"] == 401
    response = api.get(NODES, headers={"Authorization": "Bearer crmpm_not-a-token"})
    assert response.status_code == 401


def test_revoked_token_is_refused(api, admin):
    token = api.token_for(admin)
    headers = {"Authorization": f"Bearer {token}"}
    tokens = api.get("/api/v1/me/tokens", headers=headers).json["items"]
    assert api.delete(f"/api/v1/me/tokens/{tokens[0]['id']}", headers=headers).status_code == 204
    assert api.get(NODES, headers=headers).status_code == 401


def test_a_token_records_when_it_was_last_used_to_within_the_resolution(api, admin, session):
    from datetime import timedelta

    from crmpm.users import services as users
    from crmpm.users.models import ApiToken

    token = api.token_for(admin)
    headers = {"Authorization": f"Bearer {token}"}
    record = session.scalar(select(ApiToken).where(ApiToken.user_id == admin.id))
    assert record.last_used_at is None
    listed = api.get("/api/v1/me/tokens", headers=headers).json["items"]
    session.refresh(record)
    first = record.last_used_at
    assert first is not None and listed[0]["last_used_at"] is not None
    # Used again at once: the row is not written again.
    assert api.get(NODES, headers=headers).status_code == 200
    session.refresh(record)
    assert record.last_used_at == first
    # Last used longer ago than the resolution: the next use moves it forward.
    record.last_used_at = first - users.TOKEN_USE_RESOLUTION - timedelta(seconds=1)
    session.commit()
    assert api.get(NODES, headers=headers).status_code == 200
    session.refresh(record)
    assert record.last_used_at >= first


def test_openapi_spec_is_served(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert "/api/v1/eps/nodes" in spec["paths"]
    assert "/api/v1/eps/nodes/{node_id}/move" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_interactive_docs_are_served_without_a_cdn(api):
    page = api.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html and "/api/openapi.json" in html
    asset = api.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.get_data()) > 100_000
