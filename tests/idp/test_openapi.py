"""The OpenAPI document matches the routes and the responses the API really sends."""

from __future__ import annotations

import re

from idp.api.openapi import AuditList, LibraryList, ReaderList, ReaderOut

from .conftest import registration


def test_every_api_route_is_documented_and_nothing_else(app):
    document = app.test_client().get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method.lower()))
    assert documented == served
    schemas = document["components"]["schemas"]
    registration_schema = schemas["RegistrationIn"]
    assert {"family_name", "document_number", "home_library"} <= set(
        registration_schema["required"])
    assert registration_schema["additionalProperties"] is False


def test_responses_match_the_documented_shapes(api, people):
    created = api.post("/api/readers", registration(people.reader(min_age=20))).json
    ReaderOut.model_validate(created, strict=False)
    ReaderList.model_validate(api.get("/api/readers").json)
    LibraryList.model_validate(api.get("/api/libraries").json)
    AuditList.model_validate(api.get(f"/api/readers/{created['id']}/audit").json)


def test_libraries_api(api):
    added = api.post("/api/libraries", {"code": "town", "name": "Town Library"})
    assert added.status_code == 201 and added.json["code"] == "TOWN"
    assert api.get("/api/libraries/TOWN").json["name"] == "Town Library"
    assert api.post("/api/libraries", {"code": "TOWN", "name": "x"}).status_code == 409
    assert api.get("/api/libraries/NONE").status_code == 404
    assert api.post("/api/libraries", {"code": "a b", "name": "x"}).status_code == 422


def test_staff_role_cannot_add_libraries(app, ctx):
    from idp.services import staff
    from idp.services.actor import Actor, Role

    with ctx.transaction() as session:
        token = staff.create_token(session, ctx.hasher, "desk", role=Role.STAFF,
                                   actor=Actor.cli(), now=ctx.now())
    response = app.test_client().post("/api/libraries", json={"code": "X1", "name": "x"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_unknown_api_paths_and_methods_are_problem_documents(api):
    missing = api.get("/api/nothing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = api.client.delete("/api/readers", headers={"Authorization": f"Bearer {api.token}"})
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"
