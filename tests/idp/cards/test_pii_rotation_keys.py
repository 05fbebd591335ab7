"""`pii rotate` re-encrypts the private parts of the card keys, the trust anchor and
the OIDC signing keys, so the old PII key can leave the settings: afterwards the
service still issues and verifies cards and the anchor still signs, over HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cards import MemoryReplayCache, PinnedAnchors, load_trust_list, public_key_from_jwk, verify
from cards.status_documents import load_status_list
from idp.app import create_app
from idp.cardsvc import keys as card_keys_module
from idp.cardsvc import status
from idp.config_file import new_key
from idp.context import Context
from idp.models import CardKeyRow, SigningKey
from idp.services.actor import Actor
from idp.services.pii_rotation import rotate_pii

from .helpers import bearer, gate_token, reader_token


def _with_keys(settings: Any, clock: Any, keys: list[str]) -> Context:
    kind = type(settings.security.pii_keys[0])
    return Context.build(settings.model_copy(update={"security": settings.security.model_copy(
        update={"pii_keys": [kind(k) for k in keys]})}), clock=clock)


def _stored_key_ids(ctx: Context) -> set[str]:
    with ctx.sessions() as session:
        stored = [*session.scalars(select(CardKeyRow.private_enc)),
                  *session.scalars(select(SigningKey.private_enc))]
    return {value.partition(".")[0] for value in stored}


def test_rotation_reaches_card_anchor_and_oidc_keys(ctx, settings, clock, reader, make_client,
                                                    signing_keys, card_keys):
    with ctx.transaction() as session:  # a retiring card key too, not only the active one
        card_keys_module.rotate(session, ctx, actor=Actor.cli(), force=True)
        anchor = card_keys_module.anchor_row(session)
        assert anchor is not None
        anchors = PinnedAnchors.of(public_key_from_jwk(anchor.public_jwk))
    assert _stored_key_ids(ctx) == {"k1"}

    old = settings.security.pii_keys[0].get_secret_value()
    newer = f"k2:{new_key()}"
    both = _with_keys(settings, clock, [newer, old])
    report = rotate_pii(both, actor=Actor.cli(), batch_size=2)
    with ctx.sessions() as session:
        total = len(session.scalars(select(CardKeyRow)).all()) + len(
            session.scalars(select(SigningKey)).all())
    assert report.keys == total >= 6  # anchor, three card keys, two OIDC keys
    assert rotate_pii(both, actor=Actor.cli()).keys == 0  # nothing left to do
    both.dispose()
    assert _stored_key_ids(ctx) == {"k2"}

    only_new = _with_keys(settings, clock, [newer])
    app = create_app(context=only_new)
    app.config["TESTING"] = True
    client = app.test_client()
    # The anchor still signs: fresh lists (a forced re-sign) verify against the pin.
    with only_new.transaction() as session:
        status.publish(session, only_new, force=True)
    trust = client.get("/cards/trust-list")
    assert trust.status_code == 200
    trust_list = load_trust_list(trust.get_data(as_text=True), anchors)
    status_list = load_status_list(client.get("/cards/status-list").data, anchors)
    # The active card key still signs a batch, whose tokens verify offline ...
    app_client = make_client()
    batch = client.get("/cards/batch", headers=bearer(
        reader_token(app, only_new, reader.reader_id, app_client.client_id)))
    assert batch.status_code == 200, batch.get_data(as_text=True)
    text = batch.json["tokens"][0]
    verdict = verify(text, trust_list, status_list, MemoryReplayCache(),
                     batch.json["start"] + 5)
    assert verdict.ok, verdict
    # ... and online, with a gate token the OIDC key signed after the rotation.
    gate = make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])
    answer = client.post("/cards/verify", json={"token": text},
                         headers=bearer(gate_token(app, gate.client_id, gate.secret)))
    assert answer.status_code == 200 and answer.json["ok"] is True
    only_new.dispose()
