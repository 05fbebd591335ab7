"""Just-in-time provisioning: a reader's first SSO login at a library links its patron."""

from __future__ import annotations

from sqlalchemy import select

from adapters import PatronMatch
from idp.models import Library, LibraryAdapterConfig, ReaderLink
from tests.idp.adapters.conftest import city, store  # noqa: F401  (fixtures)

from .conftest import pkce_pair
from .test_code_flow import _code, _exchange


def _userinfo(app, access_token):
    return app.test_client().get("/oauth/userinfo",
                                 headers={"Authorization": f"Bearer {access_token}"}).json


def test_first_login_creates_the_local_patron_and_claims_carry_its_barcode(
        app, ctx, signed_in, reader, make_client, signing_keys, city, store):  # noqa: F811
    client = make_client(library=city)
    verifier, challenge = pkce_pair()
    tokens = _exchange(app, client, _code(signed_in, client, challenge)["code"], verifier).json
    claims = _userinfo(app, tokens["access_token"])
    patron = store.find(PatronMatch(reader_id=reader.reader_id))
    with ctx.sessions() as session:
        link = session.scalar(select(ReaderLink).where(ReaderLink.reader_id == reader.reader_id))
    assert link is not None and link.state == "linked" and link.method == "created"
    assert claims["local_barcode"] == link.local_barcode is not None
    assert patron is not None and patron.barcode == link.local_barcode

    # A second login finds the link and creates nothing more.
    verifier, challenge = pkce_pair()
    _exchange(app, client, _code(signed_in, client, challenge)["code"], verifier)
    with ctx.sessions() as session:
        assert len(session.scalars(select(ReaderLink)).all()) == 1


def test_login_at_a_library_without_adapter_links_nothing(app, ctx, signed_in, make_client,
                                                          signing_keys):
    client = make_client(library="PROV")
    verifier, challenge = pkce_pair()
    tokens = _exchange(app, client, _code(signed_in, client, challenge)["code"], verifier).json
    assert _userinfo(app, tokens["access_token"])["local_barcode"] is None
    with ctx.sessions() as session:
        assert session.scalars(select(ReaderLink)).all() == []


def test_login_while_the_library_is_offline_waits_for_the_relay(
        app, ctx, signed_in, reader, make_client, signing_keys, city, store):  # noqa: F811
    with ctx.transaction() as session:
        library = session.scalar(select(Library).where(Library.code == city))
        session.get(LibraryAdapterConfig, library.id).offline = True
    client = make_client(library=city)
    verifier, challenge = pkce_pair()
    tokens = _exchange(app, client, _code(signed_in, client, challenge)["code"], verifier)
    assert tokens.status_code == 200  # sign-in does not depend on the library
    assert _userinfo(app, tokens.json["access_token"])["local_barcode"] is None
    with ctx.sessions() as session:
        link = session.scalar(select(ReaderLink).where(ReaderLink.reader_id == reader.reader_id))
    assert link is not None and link.state == "pending"


def test_scan_to_log_in_at_a_kiosk_links_the_patron_too(
        live_server, clock, ctx, reader, make_client, signing_keys, city, store):  # noqa: F811
    from .test_device import _answer, _kiosk, _phone, _poll, _start

    kiosk = _kiosk(make_client, library=city)
    body = _start(live_server, kiosk).json()
    http, page = _phone(live_server, reader, body["verification_uri_complete"])
    assert _answer(live_server, http, page, body["user_code"], "allow").status_code == 200
    clock.advance(seconds=15)
    assert _poll(live_server, kiosk, body["device_code"]).status_code == 200
    patron = store.find(PatronMatch(reader_id=reader.reader_id))
    with ctx.sessions() as session:
        link = session.scalar(select(ReaderLink).where(ReaderLink.reader_id == reader.reader_id))
    assert patron is not None and link is not None and link.local_barcode == patron.barcode
