"""The reader's side of the device grant (RFC 8628 3.3): enter or scan the user
code, sign in, check the code against the device's screen, allow or deny.
A kiosk can fetch the QR of ``verification_uri_complete`` here too."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from cards.qr import render_png, render_svg

from ..app import db
from ..errors import RateLimited
from ..models import DeviceCode, OAuthClient
from . import device
from .ratelimit import retry_after
from .runtime import provider
from .scopes import DESCRIPTIONS
from .views_pages import current_principal

bp = Blueprint("oidc_device", __name__)

WRONG_CODE = "this code is wrong, expired or already used; check the screen you came from"
ENTRY_WINDOW = 60


def _find(text: str) -> DeviceCode | None:
    """Look a user code up; wrong codes count against the address (RFC 8628 5.1)."""
    ctx = provider().ctx
    limiter = provider().limiter
    key = f"device-entry:{request.remote_addr or '-'}"
    now = ctx.now()
    if limiter.count(key, window=ENTRY_WINDOW, now=now) >= (
            ctx.settings.oidc.user_code_failures_per_address):
        raise RateLimited("too many wrong codes from this address; wait a minute",
                          retry_after=retry_after(ENTRY_WINDOW, now))
    code = device.normalise_user_code(text)
    found = device.pending(db(), ctx, code) if code else None
    if found is None:
        limiter.hit(key, window=ENTRY_WINDOW, now=now)
    return found


def _entry(code: str, error: str | None, status: int = 200) -> tuple[str, int]:
    return render_template("device.html", user_code=code, error=error), status


@bp.route("/device", methods=["GET", "POST"])
def enter() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next=request.full_path))
    text = request.values.get("user_code", "")
    if request.method == "GET" and not text:
        return _entry("", None)
    try:
        found = _find(text)
    except RateLimited as exc:
        return _entry(text[:32], exc.message, 429)
    if found is None:
        return _entry(text[:32], WRONG_CODE, 400 if request.method == "POST" else 404)
    decision = request.form.get("decision") if request.method == "POST" else None
    if decision is None:
        client = db().get(OAuthClient, found.client_pk)
        scopes = [(s, DESCRIPTIONS[s]) for s in found.scope.split()]
        return render_template("device_consent.html", client=client, scopes=scopes,
                               user_code=found.user_code)
    device.decide(db(), provider().ctx, found, principal, approve=decision == "allow")
    db().commit()
    return render_template("device_done.html", approved=decision == "allow")


@bp.get("/device/qr.<kind>")
def qr(kind: str) -> Response:
    """The QR of ``verification_uri_complete`` for a kiosk screen (no lookup:
    it reveals nothing about whether the code exists)."""
    code = device.normalise_user_code(request.args.get("user_code", ""))
    if code is None or kind not in ("png", "svg"):
        return Response("give a user_code like BCDF-GHJK and .png or .svg\n", status=400,
                        mimetype="text/plain")
    uri = device.verification_uri_complete(provider().ctx, code)
    if kind == "png":
        return Response(render_png(uri, byte_mode=True), mimetype="image/png",
                        headers={"Cache-Control": "no-store"})
    return Response(render_svg(uri, byte_mode=True), mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})
