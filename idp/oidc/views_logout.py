"""The end-session endpoint (RP-Initiated Logout 1.0) and the account page's
"sign out" buttons. Every ended session owes its clients a back-channel logout:
stored with the session's end, first attempted beside the request (which does not
wait for it) and retried by ``readerpass oidc deliver-logouts``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie
from flask_wtf.csrf import CSRFError, ValidationError, validate_csrf

from ..app import db
from ..models import LoginSession
from ..services.actor import Actor
from . import logout, rp_logout
from .runtime import provider
from .views_pages import current_principal

bp = Blueprint("oidc_logout", __name__)

PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


def _end(login: LoginSession, reader_id: str) -> None:
    queued = logout.end_session(db(), provider().ctx, login, actor=Actor.reader(reader_id))
    ids = [row.id for row in queued]
    db().commit()
    provider().logouts.send(ids)


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session() -> Any:
    """Log out without asking only when the ID token hint names this browser's
    session; otherwise the reader confirms (no logout by a forged link)."""
    params = {name: request.values.get(name, "") for name in PARAMS}
    try:
        wanted = rp_logout.parse(db(), provider().ctx, provider().keyring, params)
    except rp_logout.LogoutRequestError as exc:
        return render_template("oauth_error.html", error=exc.error,
                               description=exc.description), 400
    principal = current_principal()
    if principal is not None:
        confirmed = request.method == "POST" and request.form.get("confirm") == "yes"
        if confirmed:
            try:
                validate_csrf(request.form.get("csrf_token", ""))
            except ValidationError as exc:
                raise CSRFError(str(exc)) from None
        elif wanted.hinted_session(db()) != principal.session.id:
            return render_template("logout.html", client=wanted.client,
                                   params={k: v for k, v in params.items() if v})
        _end(principal.session, principal.reader.id)
        cookie.clear()
    target = wanted.redirect_target()
    if target is not None:
        return redirect(target)
    return render_template("logged_out.html")


@bp.post("/account/sessions/end")
def end_one() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next="/account"))
    login = db().get(LoginSession, request.form.get("session_id", "")[:64])
    if login is not None and login.reader_id == principal.reader.id:
        _end(login, principal.reader.id)
    if login is not None and login.id == principal.session.id:
        cookie.clear()
        return redirect(url_for("oidc_pages.login"))
    return redirect(url_for("oidc_pages.account"))
