"""The public registration pages through HTTP (CSRF, validation, verification)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from idp.models import Reader

from .test_mobile_verification import code_of, outbox


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _form(person, token: str, **over: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "document_type": "resident_id",
        "document_number": person.resident_id,
        "mobile": person.mobile,
        "home_library": "CITY",
        "password": person.password,
        "password_repeat": person.password,
    }
    form.update(over)
    return form


def test_register_then_verify_the_mobile(app, ctx, people):
    client = app.test_client()
    page = client.get("/register")
    assert page.status_code == 200 and "City Library" in page.get_data(as_text=True)
    person = people.reader(min_age=20)
    posted = client.post("/register", data=_form(person, _csrf(page.get_data(as_text=True))))
    assert posted.status_code == 302 and posted.headers["Location"].endswith("/register/verify")
    verify = client.get("/register/verify")
    html = verify.get_data(as_text=True)
    card = re.search(r'id="card-number">(\d{13})<', html)
    assert card
    messages = outbox(ctx)
    assert [m["to"] for m in messages] == [person.mobile]
    wrong = client.post("/register/verify", data={"csrf_token": _csrf(html), "code": "12345"})
    assert wrong.status_code == 422
    done = client.post("/register/verify", data={"csrf_token": _csrf(html),
                                                 "code": code_of(messages[0])})
    assert done.status_code == 200 and 'id="verified"' in done.get_data(as_text=True)
    with ctx.sessions() as session:
        reader = session.scalar(select(Reader).where(Reader.card_number == card.group(1)))
        assert reader is not None and reader.assurance == "phone_verified"
        assert reader.password_hash and ctx.passwords.verify(reader.password_hash,
                                                             person.password)


def test_forms_without_csrf_token_are_refused(app, ctx, people):
    person = people.reader(min_age=20)
    response = app.test_client().post("/register", data=_form(person, "forged"))
    assert response.status_code == 400
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reader)) == 0


def test_errors_are_shown_next_to_fields_and_nothing_is_written(app, ctx, people):
    client = app.test_client()
    token = _csrf(client.get("/register").get_data(as_text=True))
    person = people.reader(min_age=20)
    bad = person.resident_id[:-1] + ("1" if person.resident_id[-1] == "0" else "0")
    response = client.post("/register", data=_form(person, token, document_number=bad))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "check digit" in html
    assert person.family_name in html and bad in html  # kept so a typo can be fixed
    assert "no-store" in response.headers["Cache-Control"]  # and never cached
    differ = client.post("/register", data=_form(person, token, password_repeat="other-pass"))
    assert differ.status_code == 422 and "differ" in differ.get_data(as_text=True)
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reader)) == 0


def test_duplicate_document_on_the_page(app, people):
    client = app.test_client()
    token = _csrf(client.get("/register").get_data(as_text=True))
    person = people.reader(min_age=20)
    assert client.post("/register", data=_form(person, token)).status_code == 302
    second = app.test_client()
    token = _csrf(second.get("/register").get_data(as_text=True))
    again = second.post("/register", data=_form(people.reader(min_age=20), token,
                                                document_number=person.resident_id))
    assert again.status_code == 409 and "already registered" in again.get_data(as_text=True)


def test_verify_page_needs_a_registration(app):
    response = app.test_client().get("/register/verify")
    assert response.status_code == 302 and response.headers["Location"].endswith("/register")
