"""After a merge nothing of the merged-away reader lets anyone in: its refresh
tokens get invalid_grant, its access tokens and sign-in session are dead (and its
clients hear so over the back channel at once), and a gate refuses its card as
revoked. Its card number signs in to the survivor."""

from __future__ import annotations

import jwt

from idp.oidc.runtime import EXTENSION
from tests.idp.cards.helpers import bearer, gate_token, token_for
from tests.idp.oidc.conftest import Browser, pkce_pair
from tests.idp.oidc.receiver import Receiver, free_port
from tests.idp.oidc.test_code_flow import _code, _exchange

from ..conftest import registration


def test_tokens_sessions_and_cards_of_the_merged_away_reader_are_refused(
        app, api, ctx, people, reader, signed_in, make_client, signing_keys, card_keys):
    port = free_port()
    client = make_client(backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel-logout")
    receiver = Receiver(port, jwks=lambda: app.test_client().get("/oauth/jwks").json,
                        issuer=ctx.settings.issuer, client_id=client.client_id,
                        now=lambda: int(ctx.now().timestamp()))
    verifier, challenge = pkce_pair()
    tokens = _exchange(app, client, _code(signed_in, client, challenge)["code"], verifier).json
    sid = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sid"]
    gate = make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])
    gate_access = gate_token(app, gate.client_id, gate.secret)
    web = app.test_client()

    def verdict(text: str) -> str:
        answer = web.post("/cards/verify", json={"token": text}, headers=bearer(gate_access))
        assert answer.status_code == 200
        return str(answer.json["reason"])

    assert verdict(token_for(ctx, reader.reader_id)) == "ok"
    # The same person registered again with a passport and had it checked at a desk:
    # the stronger assurance makes that account the survivor.
    person = people.reader(min_age=20)
    survivor = api.post("/api/readers", registration(
        person, document_type="passport", document_number="E7654321", document_country="CHN",
        birth_date=person.birth_date.isoformat(), sex=person.sex)).json
    api.post(f"/api/readers/{survivor['id']}/document-verification", {})
    receiver.start()
    try:
        merged = api.post("/api/merges", {"survivor": survivor["id"],
                                          "other": reader.reader_id})
        assert merged.status_code == 201, merged.json
        assert app.extensions[EXTENSION].logouts.drain(10)  # sent beside the request
    finally:
        receiver.stop()
    assert receiver.rejected == []
    assert [claims["sid"] for claims in receiver.received] == [sid]

    refresh = web.post("/oauth/token", auth=(client.client_id, client.secret),
                       data={"grant_type": "refresh_token",
                             "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json["error"] == "invalid_grant"
    info = web.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401
    introspected = web.post("/oauth/introspect", data={"token": tokens["access_token"]},
                            auth=(client.client_id, client.secret)).json
    assert introspected == {"active": False}
    assert signed_in.client.get("/account").status_code == 302  # signed out
    assert verdict(token_for(ctx, reader.reader_id)) == "revoked"

    # The old card number now names the survivor: its password signs in, the
    # merged-away account's does not.
    assert Browser(app).login(reader.card_number, reader.password).status_code != 302
    assert Browser(app).login(reader.card_number, person.password).status_code == 302
