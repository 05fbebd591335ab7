"""Machine-to-machine endpoints: discovery, JWKS, token, userinfo, introspection,
revocation, device authorization. Clients authenticate themselves, so these are
exempt from CSRF."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..app import db
from .keyring import NoSigningKey
from .runtime import provider

bp = Blueprint("oidc", __name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(body: bytes, max_age: int) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    return _json(provider().discovery_body, 3600)


@bp.get("/oauth/jwks")
def jwks() -> Response:
    return _json(provider().keyring.jwks_body(), provider().ctx.settings.oidc.jwks_max_age_seconds)


def _committed(response: Response) -> Response:
    """Grants write on purpose only (a claimed code, a revoked family), errors included.
    A request answered from the caches opened no session, and commits nothing."""
    if "db" in g:
        db().commit()
    for key, value in NO_STORE.items():
        response.headers.setdefault(key, value)
    return response


@bp.post("/oauth/token")
def token() -> Response:
    return _committed(provider().server.token_response())


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    return _committed(provider().server.create_endpoint_response("userinfo"))


@bp.post("/oauth/introspect")
def introspect() -> Response:
    return _committed(provider().server.introspection_response())


@bp.post("/oauth/device_authorization")
def device_authorization() -> Response:
    return _committed(provider().server.create_endpoint_response("device_authorization"))


@bp.post("/oauth/revoke")
def revoke() -> Response:
    return _committed(provider().server.create_endpoint_response("revocation"))


@bp.errorhandler(NoSigningKey)
def _no_key(_error: NoSigningKey) -> Response:
    db().rollback()
    body = b'{"error":"temporarily_unavailable","error_description":"no signing key"}'
    return Response(body, status=503, mimetype="application/json", headers=NO_STORE)


