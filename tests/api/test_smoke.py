from tests import factories


def test_admin_creates_node_and_reads_it_back(api, admin, session):
    response = api.post("/api/v1/eps/nodes", user=admin, json={"code": "ENT", "name": "Enterprise", "parent_id": None})
    assert response.status_code == 201, response.json
    node_id = response.json["id"]
    response = api.get(f"/api/v1/eps/nodes/{node_id}", user=admin)
    assert response.status_code == 200
    assert response.json["code"] == "ENT"
