"""Discovery, JWKS and the signing-key cycle; the keys and clients commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from idp.cli import cli, clients_cmd, keys_cmd
from idp.errors import Conflict
from idp.oidc import keys
from idp.services.actor import Actor


def test_discovery_names_every_endpoint_and_only_s256(app, ctx, signing_keys):
    doc = app.test_client().get("/.well-known/openid-configuration").json
    assert doc["issuer"] == ctx.settings.issuer
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                 "introspection_endpoint", "revocation_endpoint", "device_authorization_endpoint",
                 "end_session_endpoint"):
        assert doc[name].startswith(ctx.settings.issuer + "/oauth/")


def test_jwks_publishes_active_and_next_keys_without_private_parts(app, ctx, signing_keys):
    response = app.test_client().get("/oauth/jwks")
    assert "max-age=3600" in response.headers["Cache-Control"]
    published = response.json["keys"]
    with ctx.transaction() as session:
        states = {k.kid: k.state for k in keys.list_keys(session)}
    assert sorted(states.values()) == ["active", "next"]
    assert {k["kid"] for k in published} == set(states)
    assert all("d" not in k and k["alg"] == "ES256" and k["crv"] == "P-256" for k in published)


def test_rotation_waits_for_caches_then_retires_the_old_key_after_its_tokens(ctx, clock,
                                                                             signing_keys):
    with ctx.transaction() as session, pytest.raises(Conflict, match="rotate again in"):
        keys.rotate(session, ctx, actor=Actor.cli())
    clock.advance(seconds=ctx.settings.oidc.jwks_max_age_seconds)
    with ctx.transaction() as session:
        changes = keys.rotate(session, ctx, actor=Actor.cli())
    assert [c.split()[0] for c in changes] == ["retiring", "active", "next"]
    with ctx.transaction() as session:
        assert keys.retire(session, ctx, None, actor=Actor.cli()) == []
    clock.advance(seconds=ctx.settings.oidc.access_token_seconds)
    with ctx.transaction() as session:
        assert len(keys.retire(session, ctx, None, actor=Actor.cli())) == 1
        assert sorted(k.state for k in keys.list_keys(session)) == ["active", "next", "retired"]


def test_private_keys_are_stored_encrypted(ctx, signing_keys):
    with ctx.transaction() as session:
        for row in keys.list_keys(session):
            assert "PRIVATE KEY" not in row.private_enc
            assert keys.load_private(ctx, row).as_dict(private=False)["x"] == row.public_jwk["x"]


def test_token_endpoint_without_keys_is_unavailable_not_a_crash(app, make_client):
    client = make_client(grant_types=["client_credentials"])
    response = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                      auth=(client.client_id, client.secret))
    assert response.status_code == 503 and response.json["error"] == "temporarily_unavailable"


def test_keys_and_clients_commands(ctx, monkeypatch):
    for module in (keys_cmd, clients_cmd):
        monkeypatch.setattr(module, "context", lambda **_: ctx)
    runner = CliRunner()
    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert sorted(json.loads(line)["state"] for line in listed.output.splitlines()) == [
        "active", "next"]
    added = runner.invoke(cli, ["clients", "add", "City OPAC", "--library", "CITY",
                                "--redirect-uri", "https://opac.city.example/cb", "--json"])
    assert added.exit_code == 0, added.output
    record = json.loads(added.output)
    assert record["client_secret"].startswith("rpcs_") and record["library"] == "CITY"
    shown = runner.invoke(cli, ["clients", "show", record["client_id"], "--json"])
    assert "client_secret" not in json.loads(shown.output)
    rotated_secret = runner.invoke(cli, ["clients", "rotate-secret", record["client_id"]])
    assert rotated_secret.output.strip() != record["client_secret"]
    bad = runner.invoke(cli, ["clients", "add", "X", "--library", "CITY",
                              "--redirect-uri", "http://evil.example/cb"])
    assert bad.exit_code == 2 and "https" in bad.output
    removed = runner.invoke(cli, ["clients", "remove", record["client_id"]])
    assert removed.exit_code == 0
    assert runner.invoke(cli, ["clients", "show", record["client_id"]]).exit_code == 1
