"""Pages for readers: sign in, authorize (consent), and their account
(sessions and consents). Every form carries a CSRF token."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response

from ..app import db
from ..errors import RateLimited
from ..models import OAuthClient
from ..services.actor import Actor
from . import consent, logout, sessions
from .login import LoginFailed, authenticate
from .runtime import provider
from .scopes import DESCRIPTIONS

bp = Blueprint("oidc_pages", __name__)

SESSION_KEY = "op_session"
FRESH_KEY = "op_fresh_login"
SAFE_NEXT = ("/oauth/authorize?", "/device", "/account", "/card")


def current_principal() -> sessions.Principal | None:
    return sessions.active(db(), provider().ctx, cookie.get(SESSION_KEY))


def _safe_next(value: str) -> str:
    """Only our own pages (a path we name, never a host): no open redirect."""
    if value.startswith(SAFE_NEXT):
        return value
    return url_for("oidc_pages.account")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", next=target, error=None)
    ctx = provider().ctx
    try:
        reader = authenticate(db(), ctx, provider().limiter, request.form.get("identifier", ""),
                              request.form.get("password", ""),
                              address=request.remote_addr or "-", dummy_hash=provider().dummy_hash)
    except (LoginFailed, RateLimited) as exc:
        db().commit()  # keep the audit of failures
        status = 429 if isinstance(exc, RateLimited) else 401
        return render_template("login.html", next=target, error=exc.message), status
    started = sessions.start(db(), ctx, reader)
    db().commit()
    cookie.clear()  # a new session id on sign-in (no session fixation)
    cookie[SESSION_KEY] = started.id
    cookie[FRESH_KEY] = True
    return redirect(target)


def _authorization_error(error: OAuth2Error) -> Response:
    """Redirect errors to a verified redirect URI (with ``iss``); otherwise show them."""
    server = provider().server
    if error.redirect_uri:
        response: Response = server.handle_error_response(None, error)
        server.issuer_parameter.add_issuer_parameter(server, response)
        return response
    body = render_template("oauth_error.html", error=error.error,
                           description=error.description or "")
    return Response(body, status=400, mimetype="text/html")


def _login_needed(principal: sessions.Principal | None, prompts: set[str]) -> bool:
    fresh = bool(cookie.pop(FRESH_KEY, False))
    if principal is None or ("login" in prompts and not fresh):
        return True
    max_age = request.values.get("max_age")
    if max_age is None:
        return False
    if not (max_age.isascii() and max_age.isdigit()) or len(max_age) > 9:
        raise InvalidRequestError("max_age must be a non-negative integer (seconds)")
    age = (provider().ctx.now() - principal.session.auth_time).total_seconds()
    return age > int(max_age) and not fresh


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    server = provider().server
    principal = current_principal()
    grant = None
    try:
        grant = server.get_consent_grant(end_user=principal)
        prompts = set(request.values.get("prompt", "").split())
        if _login_needed(principal, prompts):
            if "none" in prompts:
                raise LoginRequiredError(redirect_uri=grant.redirect_uri)
            return redirect(url_for("oidc_pages.login", next=request.full_path))
        assert principal is not None
        client: OAuthClient = grant.client.row
        scopes = (grant.request.scope or "").split()
        if request.method == "POST":
            if request.form.get("decision") != "allow":
                return server.create_authorization_response(grant=grant, grant_user=None)
            consent.grant(db(), provider().ctx, principal.reader.id, client, scopes)
        elif "consent" in prompts or not consent.covers(db(), principal.reader.id, client.id,
                                                        scopes):
            if "none" in prompts:
                raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
            return render_template("consent.html", client=client, action=request.full_path,
                                   scopes=[(s, DESCRIPTIONS[s]) for s in scopes])
    except OAuth2Error as error:
        if grant is not None and not error.redirect_uri and error.error != "invalid_client":
            error.redirect_uri = grant.redirect_uri
        error.state = request.values.get("state") if error.redirect_uri else None
        return _authorization_error(error)
    response = server.create_authorization_response(grant=grant, grant_user=principal)
    db().commit()
    return response


@bp.get("/account")
def account() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next="/account"))
    ctx = provider().ctx
    logins = sessions.for_reader(db(), ctx, principal.reader.id)
    services = {login.id: sorted({client.name for _, client in sessions.clients_of(db(), login.id)})
                for login in logins}
    return render_template(
        "account.html", reader=principal.reader, current=principal.session.id,
        sessions=logins, services=services,
        consents=consent.for_reader(db(), principal.reader.id),
    )


@bp.post("/account/consents/revoke")
def revoke_consent() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next="/account"))
    consent.revoke(db(), provider().ctx, principal.reader.id, request.form.get("client_id", ""))
    db().commit()
    return redirect(url_for("oidc_pages.account"))


@bp.post("/account/logout-everywhere")
def logout_everywhere() -> Any:
    principal = current_principal()
    if principal is not None:
        queued = logout.end_all(db(), provider().ctx, principal.reader.id,
                                actor=Actor.reader(principal.reader.id))
        ids = [row.id for row in queued]
        db().commit()
        provider().logouts.send(ids)
    cookie.clear()
    return redirect(url_for("oidc_pages.login"))
