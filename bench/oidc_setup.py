"""The benchmark's scratch installation: settings file, schema, libraries, signing
keys, two clients and one reader with a password."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from idp import migrate
from idp.config_file import render_config, write_config
from idp.context import Context
from idp.oidc import clients, keys
from idp.schemas import LibraryIn, RegistrationIn
from idp.services import libraries
from idp.services.actor import Actor
from idp.services.registration import register_reader
from idp.settings import load_settings
from idp.synthetic import IdentityGenerator

REDIRECT = "http://127.0.0.1/callback"


@dataclass
class Fixture:
    config: Path
    backend_id: str
    backend_secret: str
    web_id: str
    web_secret: str
    card_number: str
    password: str
    verifier: str
    challenge: str
    redirect: str = REDIRECT

    def reader_token(self, base: str) -> str:
        """An access token of the reader (the session cookie of a fresh login)."""
        http = requests.Session()
        page = http.get(f"{base}/login", timeout=30).text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        http.post(f"{base}/login", timeout=30, allow_redirects=False, data={
            "csrf_token": csrf, "identifier": self.card_number, "password": self.password,
            "next": "/account"})
        back = http.get(f"{base}/oauth/authorize", allow_redirects=False, timeout=30, params={
            "response_type": "code", "client_id": self.web_id, "redirect_uri": REDIRECT,
            "scope": "openid profile", "code_challenge": self.challenge,
            "code_challenge_method": "S256"})
        code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
        tokens = requests.post(f"{base}/oauth/token", auth=(self.web_id, self.web_secret),
                               timeout=30, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": self.verifier}).json()
        return str(tokens["access_token"])


def prepare(workdir: Path, database_url: str, base: str) -> Fixture:
    config = workdir / "readerpass.toml"
    write_config(config, render_config(province_code="BENCH", province_name="Bench",
                                       instance_dir=str(workdir), database_url=database_url,
                                       public_url=base, secure_cookies=False)
                 # every bench login comes from 127.0.0.1: the highest per-address limit (a minute)
                 + "\n[oidc]\nlogin_attempts_per_address = 10000\n")
    ctx = Context.build(load_settings(config))
    try:
        migrate.upgrade(ctx.engine)
        actor = Actor.cli()
        with ctx.transaction() as session:
            libraries.add_library(session, LibraryIn(code="PROV", name="Provincial Library"),
                                  actor=actor, now=ctx.now())
            keys.rotate(session, ctx, actor=actor)
            backend, backend_secret = clients.add_client(
                session, ctx, name="ILS backend", library="PROV", kind="confidential",
                redirect_uris=[], grant_types=["client_credentials"], scopes=["reader_card"],
                actor=actor)
            web, web_secret = clients.add_client(
                session, ctx, name="OPAC", library="PROV", kind="confidential",
                redirect_uris=[REDIRECT], grant_types=["authorization_code", "refresh_token"],
                scopes=["openid", "profile"], actor=actor)
            person = IdentityGenerator(11, today=dt.date.today()).reader(min_age=20)
            data = RegistrationIn.model_validate({
                "family_name": person.family_name, "given_name": person.given_name,
                "document_type": "resident_id", "document_number": person.resident_id,
                "mobile": person.mobile, "home_library": "PROV", "password": person.password})
            reader = register_reader(session, ctx, data, actor=actor)
            assert backend_secret is not None and web_secret is not None
            verifier = secrets.token_urlsafe(48)
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            return Fixture(config, backend.client_id, backend_secret, web.client_id, web_secret,
                           reader.card_number, person.password, verifier, challenge)
    finally:
        ctx.dispose()
