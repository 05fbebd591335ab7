"""Show, list, search, update and status changes of readers (staff API)."""

from __future__ import annotations

from .conftest import registration


def _register(api, person, **over):
    response = api.post("/api/readers", registration(person, **over))
    assert response.status_code == 201, response.json
    return response.json


def test_show_by_id_or_card_number_and_unknown(api, people):
    reader = _register(api, people.reader(min_age=20))
    assert api.get(f"/api/readers/{reader['id']}").json == api.get(
        f"/api/readers/{reader['card_number']}").json
    missing = api.get("/api/readers/1234567890128")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    assert api.get("/api/readers/not-a-ref").status_code == 404


def test_list_pages_by_id_and_filters(api, people):
    ids = sorted(_register(api, people.reader(min_age=20), home_library=lib)["id"]
                 for lib in ("PROV", "CITY", "PROV", "CITY", "PROV"))
    first = api.get("/api/readers", query_string={"limit": 2}).json
    assert [r["id"] for r in first["items"]] == ids[:2]
    second = api.get("/api/readers", query_string={"limit": 2,
                                                   "after": first["next_after"]}).json
    assert [r["id"] for r in second["items"]] == ids[2:4]
    city = api.get("/api/readers", query_string={"library": "city"}).json["items"]
    assert len(city) == 2 and {r["home_library"] for r in city} == {"CITY"}
    assert api.get("/api/readers", query_string={"limit": "x"}).status_code == 400
    assert api.get("/api/readers", query_string={"limit": 0}).status_code == 400
    assert api.get("/api/readers", query_string={"status": "gone"}).status_code == 422


def test_search_by_each_kind_of_key(api, people):
    person = people.reader(min_age=20)
    reader = _register(api, person)
    _register(api, people.reader(min_age=20))
    for query in (reader["id"], reader["card_number"], person.resident_id,
                  person.resident_id.lower(), person.mobile,
                  person.mobile.removeprefix("+86"),
                  person.family_name + person.given_name[:1]):
        found = api.get("/api/readers", query_string={"q": query}).json["items"]
        assert reader["id"] in [r["id"] for r in found], query
    nothing = api.get("/api/readers", query_string={"q": "1234567890128"}).json["items"]
    assert nothing == []
    assert api.get("/api/readers", query_string={"q": " "}).status_code == 422
    assert api.get("/api/readers", query_string={"q": "x" * 65}).status_code == 422


def test_name_search_treats_like_wildcards_literally(api, people):
    _register(api, people.reader(min_age=20))
    found = api.get("/api/readers", query_string={"q": "%"}).json["items"]
    assert found == []


def test_update_names_and_mobile_resets_phone_assurance(api, people, ctx):
    person = people.reader(min_age=20)
    reader = _register(api, person)
    api.post(f"/api/readers/{reader['id']}/mobile-verification")
    code = _last_code(ctx)
    verified = api.post(f"/api/readers/{reader['id']}/mobile-verification/confirm",
                        {"code": code}).json
    assert verified["assurance"] == "phone_verified"
    new_mobile = people.mobile()
    changed = api.patch(f"/api/readers/{reader['id']}",
                        {"given_name": "新名", "mobile": new_mobile,
                         "version": verified["version"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["given_name"] == "新名"
    assert changed.json["assurance"] == "self_asserted"
    assert changed.json["mobile_verified"] is False
    assert changed.json["version"] == verified["version"] + 1
    found = api.get("/api/readers", query_string={"q": new_mobile}).json["items"]
    assert [r["id"] for r in found] == [reader["id"]]
    assert api.get("/api/readers", query_string={"q": person.mobile}).json["items"] == []


def test_update_with_a_stale_version_is_refused(api, people):
    reader = _register(api, people.reader(min_age=20))
    api.patch(f"/api/readers/{reader['id']}", {"given_name": "一"})
    stale = api.patch(f"/api/readers/{reader['id']}", {"given_name": "二",
                                                       "version": reader["version"]})
    assert stale.status_code == 409 and stale.json["code"] == "version_conflict"
    assert api.get(f"/api/readers/{reader['id']}").json["given_name"] == "一"


def test_category_change_follows_age_rules(api, people):
    adult = _register(api, people.reader(min_age=30))
    ok = api.patch(f"/api/readers/{adult['id']}", {"category": "temporary"})
    assert ok.json["category"] == "temporary"
    refused = api.patch(f"/api/readers/{adult['id']}", {"category": "child"})
    assert refused.status_code == 422


def test_status_transitions(api, people):
    reader = _register(api, people.reader(min_age=20))
    path = f"/api/readers/{reader['id']}/status"
    no_reason = api.post(path, {"status": "suspended"})
    assert no_reason.status_code == 422 and no_reason.json["field"] == "reason"
    assert api.post(path, {"status": "lost_reported"}).json["status"] == "lost_reported"
    assert api.post(path, {"status": "active"}).json["status"] == "active"
    assert api.post(path, {"status": "active"}).status_code == 409
    assert api.post(path, {"status": "cancelled", "reason": "moved away"}).json["status"] == (
        "cancelled")
    back = api.post(path, {"status": "active"})
    assert back.status_code == 409 and back.json["code"] == "invalid_transition"
    assert api.post(path, {"status": "merged"}).status_code == 422
    closed = api.patch(f"/api/readers/{reader['id']}", {"given_name": "x"})
    assert closed.status_code == 409
    actions = [(e["action"], e["details"].get("to"), e["reason"])
               for e in api.get(f"/api/readers/{reader['id']}/audit").json["items"]]
    assert actions == [
        ("reader.register", None, None),
        ("reader.status", "lost_reported", None),
        ("reader.status", "active", None),
        ("reader.status", "cancelled", "moved away"),
    ]


def test_document_verification_raises_assurance(api, people):
    reader = _register(api, people.reader(min_age=20))
    verified = api.post(f"/api/readers/{reader['id']}/document-verification",
                        {"reason": "resident ID card seen at the desk"}).json
    assert verified["assurance"] == "document_verified"
    assert verified["documents"][0]["verified"] is True


def _last_code(ctx) -> str:
    import json
    import re

    lines = ctx.settings.outbox_path.read_text(encoding="utf-8").splitlines()
    match = re.search(r"\b(\d{6})\b", json.loads(lines[-1])["text"])
    assert match, lines[-1]
    return match.group(1)
