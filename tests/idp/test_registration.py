"""Registration rules of DESIGN "Reader identity", through the staff HTTP API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from idp.identity.resident_id import check_digit
from idp.models import AuditEvent, IdentityDocument, Reader

from .conftest import START, registration


def counts(ctx: Any) -> tuple[int, int, int]:
    with ctx.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Reader, IdentityDocument, AuditEvent)
        )


def test_register_adult_derives_birth_date_sex_and_category(api, people):
    person = people.reader(min_age=30, max_age=40)
    response = api.post("/api/readers", registration(person))
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(body["id"])
    assert body["birth_date"] == person.birth_date.isoformat()
    assert body["sex"] == person.sex
    assert body["category"] == "adult"
    assert body["status"] == "active"
    assert body["assurance"] == "self_asserted"
    assert body["mobile"].startswith("+86 ") and "*" in body["mobile"]
    doc = body["documents"][0]
    assert doc["number"] != person.resident_id
    assert doc["number"][-4:] == person.resident_id[-4:]
    assert body["expires_on"] == "2031-03-02"
    assert api.get(f"/api/readers/{body['card_number']}").json["id"] == body["id"]


def test_register_writes_an_audit_event_without_personal_data(api, people):
    person = people.reader(min_age=20)
    reader = api.post("/api/readers", registration(person)).json
    events = api.get(f"/api/readers/{reader['id']}/audit").json["items"]
    assert [e["action"] for e in events] == ["reader.register"]
    assert events[0]["actor"] == "admin:tester"
    dumped = repr(events)
    for secret in (person.resident_id, person.mobile, person.family_name + person.given_name):
        assert secret not in dumped


def test_fifteen_digit_number_is_converted_and_counts_as_the_same_document(api, people):
    birth = dt.date(1968, 4, 9)
    old = people.resident_id_15(birth, "F")
    new = old[:6] + "19" + old[6:15]
    new += check_digit(new)
    person = people.reader(min_age=30)
    first = api.post("/api/readers", registration(person, document_number=old))
    assert first.status_code == 201, first.json
    assert first.json["birth_date"] == "1968-04-09"
    again = api.post("/api/readers", registration(people.reader(min_age=30),
                                                  document_number=new))
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_document"


def test_second_registration_with_the_same_document_is_refused_without_revealing_whom(
    api, people, ctx
):
    person = people.reader(min_age=25)
    api.post("/api/readers", registration(person))
    before = counts(ctx)
    other = people.reader(min_age=25)
    response = api.post("/api/readers", registration(other, document_number=person.resident_id))
    assert response.status_code == 409
    assert response.json["field"] == "document_number"
    text = response.get_data(as_text=True)
    assert person.family_name not in text and person.given_name not in text
    assert "card" in response.json["detail"]  # tells the reader how to recover
    assert counts(ctx) == before


def test_social_security_card_shares_the_resident_id_namespace(api, people):
    person = people.reader(min_age=25)
    assert api.post("/api/readers", registration(person)).status_code == 201
    response = api.post("/api/readers", registration(
        people.reader(), document_type="social_security", document_number=person.resident_id))
    assert response.status_code == 409


def test_bad_check_digit_is_refused_and_nothing_written(api, people, ctx):
    person = people.reader()
    wrong = person.resident_id[:-1] + ("0" if person.resident_id[-1] != "0" else "1")
    before = counts(ctx)
    response = api.post("/api/readers", registration(person, document_number=wrong))
    assert response.status_code == 422
    assert response.json["field"] == "document_number"
    assert "check digit" in response.json["detail"]
    assert wrong not in response.get_data(as_text=True)
    assert counts(ctx) == before


def test_impossible_birth_date_and_wrong_length_are_refused(api, people):
    person = people.reader()
    body = person.resident_id[:6] + "19990231" + person.resident_id[14:17]
    bad_date = body + check_digit(body)
    for number, words in ((bad_date, "birth date"), (person.resident_id[:17], "18")):
        response = api.post("/api/readers", registration(person, document_number=number))
        assert response.status_code == 422, number
        assert words in response.json["detail"]


def test_birth_date_must_match_the_identity_number(api, people):
    person = people.reader(min_age=20)
    other_day = (person.birth_date - dt.timedelta(days=1)).isoformat()
    response = api.post("/api/readers", registration(person, birth_date=other_day))
    assert response.status_code == 422
    assert response.json["field"] == "birth_date"
    same = api.post("/api/readers", registration(person, birth_date=person.birth_date.isoformat()))
    assert same.status_code == 201


def test_sex_must_match_the_identity_number(api, people):
    person = people.reader(min_age=20)
    wrong = "F" if person.sex == "M" else "M"
    response = api.post("/api/readers", registration(person, sex=wrong))
    assert response.status_code == 422
    assert response.json["field"] == "sex"


def test_passport_needs_country_and_birth_date(api, people):
    person = people.reader(min_age=20)
    base = registration(person, document_type="passport", document_number="E12345678")
    assert api.post("/api/readers", base).json["field"] == "document_country"
    with_country = dict(base, document_country="GBR")
    assert api.post("/api/readers", with_country).json["field"] == "birth_date"
    ok = api.post("/api/readers", dict(with_country, birth_date="1990-05-01"))
    assert ok.status_code == 201, ok.json
    assert ok.json["documents"][0]["country"] == "GBR"
    # The same passport number from another country is another document.
    other = dict(with_country, document_country="FRA", birth_date="1991-01-01")
    assert api.post("/api/readers", other).status_code == 201
    assert api.post("/api/readers", dict(with_country, birth_date="1990-05-01")).status_code == 409


def test_teen_category_from_age_and_refused_adult_category(api, people):
    teen = people.reader(min_age=15, max_age=16)
    response = api.post("/api/readers", registration(teen))
    assert response.json["category"] == "teen"
    other = people.reader(min_age=15, max_age=16)
    refused = api.post("/api/readers", registration(other, category="adult"))
    assert refused.status_code == 422
    assert refused.json["field"] == "category"


def test_child_needs_a_registered_adult_guardian(api, people, ctx):
    child = people.reader(min_age=6, max_age=10)
    missing = api.post("/api/readers", registration(child, mobile=None))
    assert missing.status_code == 422 and missing.json["field"] == "guardian"

    teen = api.post("/api/readers", registration(people.reader(min_age=15, max_age=16))).json
    minor = api.post("/api/readers", registration(child, mobile=None, guardian=teen["id"]))
    assert minor.status_code == 422 and "adult" in minor.json["detail"]

    unknown = api.post("/api/readers", registration(child, mobile=None, guardian="1234567890128"))
    assert unknown.status_code == 422 and unknown.json["field"] == "guardian"

    parent = api.post("/api/readers", registration(people.reader(min_age=35, max_age=45))).json
    ok = api.post("/api/readers", registration(child, mobile=None,
                                               guardian=parent["card_number"]))
    assert ok.status_code == 201, ok.json
    assert ok.json["category"] == "child"
    assert ok.json["guardian_id"] == parent["id"]
    assert ok.json["mobile"] is None


def test_suspended_guardian_is_refused(api, people):
    parent = api.post("/api/readers", registration(people.reader(min_age=35))).json
    api.post(f"/api/readers/{parent['id']}/status", {"status": "suspended", "reason": "test"})
    child = people.reader(min_age=6, max_age=10)
    response = api.post("/api/readers", registration(child, mobile=None, guardian=parent["id"]))
    assert response.status_code == 422
    assert "suspended" in response.json["detail"]


def test_adult_needs_a_mobile_and_it_is_normalised(api, people):
    person = people.reader(min_age=20)
    assert api.post("/api/readers", registration(person, mobile=None)).json["field"] == "mobile"
    national = person.mobile.removeprefix("+86")
    spaced = f"0086 {national[:3]}-{national[3:7]} {national[7:]}"
    reader = api.post("/api/readers", registration(person, mobile=spaced)).json
    found = api.get("/api/readers", query_string={"q": person.mobile}).json["items"]
    assert [r["id"] for r in found] == [reader["id"]]


def test_invalid_mobile_and_unknown_library(api, people):
    person = people.reader(min_age=20)
    bad = api.post("/api/readers", registration(person, mobile="+86 010 1234 5678"))
    assert bad.status_code == 422 and bad.json["field"] == "mobile"
    unknown = api.post("/api/readers", registration(person, home_library="NOPE"))
    assert unknown.status_code == 422 and unknown.json["field"] == "home_library"
    assert "NOPE" in unknown.json["detail"]


def test_password_is_stored_as_argon2id_and_weak_passwords_refused(api, people, ctx):
    person = people.reader(min_age=20)
    weak = api.post("/api/readers", registration(person, password="short"))
    assert weak.status_code == 422 and weak.json["field"] == "password"
    reader = api.post("/api/readers", registration(person)).json
    with ctx.sessions() as session:
        stored = session.get(Reader, reader["id"]).password_hash
    assert stored.startswith("$argon2id$")
    assert ctx.passwords.verify(stored, person.password)


def test_names_with_control_characters_are_refused(api, people):
    person = people.reader(min_age=20)
    response = api.post("/api/readers", registration(person, given_name="伟\u200b"))
    assert response.status_code == 422 and response.json["field"] == "given_name"


def test_malformed_requests_get_specific_errors_and_write_nothing(api, app, people, ctx):
    person = people.reader(min_age=20)
    before = counts(ctx)
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    client = app.test_client()
    broken = client.post("/api/readers", data=b'{"family_name": ', headers=headers)
    assert broken.status_code == 400 and broken.json["code"] == "invalid_json"
    form = client.post("/api/readers", data={"a": "b"},
                       headers={"Authorization": headers["Authorization"]})
    assert form.status_code == 415
    typed = api.post("/api/readers", registration(person, family_name=123))
    assert typed.status_code == 422 and typed.json["field"] == "family_name"
    long_name = api.post("/api/readers", registration(person, given_name="伟" * 65))
    assert long_name.status_code == 422 and long_name.json["field"] == "given_name"
    extra = api.post("/api/readers", dict(registration(person), admin=True))
    assert extra.status_code == 422 and extra.json["field"] == "admin"
    missing = api.post("/api/readers", {"family_name": "王"})
    assert missing.status_code == 422 and len(missing.json["errors"]) >= 3
    huge = client.post("/api/readers", data=b"x" * (70 * 1024), headers=headers)
    assert huge.status_code == 413
    for response in (broken, form, typed, long_name, extra, missing, huge):
        assert response.mimetype == "application/problem+json"
    assert counts(ctx) == before


def test_staff_api_needs_a_valid_token(app, api, ctx):
    client = app.test_client()
    assert client.get("/api/readers").status_code == 401
    bad = client.get("/api/readers", headers={"Authorization": "Bearer rpst_nope"})
    assert bad.status_code == 401
    assert "WWW-Authenticate" in bad.headers
    assert api.get("/api/readers").status_code == 200
    from idp.services import staff
    from idp.services.actor import Actor

    with ctx.transaction() as session:
        staff.revoke_token(session, "tester", actor=Actor.cli(), now=ctx.now())
    assert api.get("/api/readers").status_code == 401


def test_clock_decides_age_boundaries(api, people, clock):
    """Turning 14 today means no guardian is needed any more."""
    birth = dt.date(START.year - 14, START.month, START.day)
    number = people.resident_id(birth, "F")
    person = people.reader(min_age=20)
    body = registration(person, document_number=number)
    response = api.post("/api/readers", body)
    assert response.status_code == 201, response.json
    assert response.json["category"] == "teen"


def test_concurrent_registrations_of_one_document_create_one_reader(app, api, people, ctx):
    """Racing requests all pass the pre-check; the unique keyed hash decides."""
    import threading

    person = people.reader(min_age=30)
    bodies = [registration(people.reader(min_age=30), document_number=person.resident_id)
              for _ in range(6)]
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def attempt(body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/readers", json=body,
                               headers={"Authorization": f"Bearer {api.token}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * (len(bodies) - 1)
    assert counts(ctx)[0] == 1
