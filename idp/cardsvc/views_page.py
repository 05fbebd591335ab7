"""The reader's card page: the current QR code, re-drawn every few seconds from a
batch embedded in the page, so it keeps working offline for the batch's 24 hours.

The batch is a JSON data block (not executed, so the CSP allows it); the drawing
script is a static file (``script-src 'self'``, no inline script).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from markupsafe import Markup

from ..app import current_context, db
from ..errors import Conflict, RateLimited
from ..oidc.views_pages import current_principal
from ..services.actor import Actor
from . import issuance, lifecycle
from .runtime import runtime

bp = Blueprint("cards_page", __name__)


def _json_block(data: dict[str, Any]) -> Markup:
    """JSON safe inside <script type="application/json"> (no "</script>" breakout)."""
    text = json.dumps(data, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@bp.get("/card")
def card_page() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next="/card"))
    card = runtime()
    reader = principal.reader
    try:
        issued = issuance.batch(db(), current_context(), card.signers, card.limiter, reader)
    except (Conflict, RateLimited) as exc:
        db().commit()
        current = lifecycle.current_card(db(), reader.id)
        status = 429 if isinstance(exc, RateLimited) else 409
        return render_template("card.html", batch=None, error=exc.message, card=current,
                               reader=reader), status
    db().commit()
    response = render_template("card.html", batch=_json_block(issued.to_json()), error=None,
                               card=lifecycle.current_card(db(), reader.id), reader=reader)
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/card/lost")
def report_lost() -> Any:
    principal = current_principal()
    if principal is None:
        return redirect(url_for("oidc_pages.login", next="/card"))
    reader = principal.reader
    lifecycle.change(db(), current_context(), reader, "lost", actor=Actor.reader(reader.id),
                     reason="reported by the reader")
    db().commit()
    runtime().documents.invalidate()
    return redirect(url_for("cards_page.card_page"))
