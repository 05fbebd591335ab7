"""Public registration pages: register, then confirm the mobile with a code.

Minimal HTML forms with CSRF protection; the same schema and service as the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response

from ..app import current_context, db
from ..errors import RateLimited, ReaderPassError
from ..messaging import DeliveryFailed
from ..oidc.ratelimit import limit_address
from ..oidc.runtime import provider
from ..schemas import DOCUMENT_TYPES, RegistrationIn
from ..services import libraries, verification
from ..services.actor import Actor
from ..services.lookup import find_reader
from ..services.registration import register_reader

bp = Blueprint("pages", __name__)


@bp.after_request
def _no_store(response: Response) -> Response:
    # These pages echo what the reader typed (to fix typos): never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response

FIELDS = ("family_name", "given_name", "document_type", "document_number", "document_country",
          "birth_date", "mobile", "home_library", "password")


def _form_data() -> dict[str, Any]:
    data = {key: request.form.get(key, "").strip() for key in FIELDS}
    data["password"] = request.form.get("password", "")
    return {key: value for key, value in data.items() if value != ""}


def _render(errors: dict[str, str], values: dict[str, Any], status: int = 200) -> tuple[str, int]:
    return render_template(
        "register.html",
        libraries=libraries.list_libraries(db()),
        document_types=DOCUMENT_TYPES,
        errors=errors,
        values=values,
    ), status


@bp.get("/")
def index() -> Response:
    return redirect(url_for("pages.register"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if request.method == "GET":
        return _render({}, {})
    values = _form_data()
    try:  # the sign-in page's per-address limit, against scripted mass registration
        limit_address(provider().limiter, "register", request.remote_addr or "-",
                      limit=current_context().settings.oidc.login_attempts_per_address,
                      now=current_context().now())
    except RateLimited as exc:
        return _render({"form": exc.message}, values, 429)
    if request.form.get("password", "") != request.form.get("password_repeat", ""):
        return _render({"password_repeat": "the two passwords differ"}, values, 422)
    try:
        data = RegistrationIn.model_validate(values)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]) or "form": e["msg"] for e in exc.errors()}
        return _render(errors, values, 422)
    ctx = current_context()
    try:
        reader = register_reader(db(), ctx, data, actor=Actor.system("registration-page"))
        db().commit()
    except ReaderPassError as exc:
        db().rollback()
        status = 409 if exc.code == "duplicate_document" else 422
        return _render({exc.field or "form": exc.message}, values, status)
    session.clear()
    session["registered_reader"] = reader.id
    try:
        verification.send_code(db(), ctx, reader, actor=Actor.reader(reader.id))
        db().commit()
    except (RateLimited, DeliveryFailed):
        db().rollback()
    return redirect(url_for("pages.verify"))


@bp.route("/register/verify", methods=["GET", "POST"])
def verify() -> Any:
    reader_id = session.get("registered_reader")
    if not reader_id:
        return redirect(url_for("pages.register"))
    reader = find_reader(db(), reader_id)
    error = None
    if request.method == "POST":
        ctx = current_context()
        try:
            if request.form.get("action") == "resend":
                verification.send_code(db(), ctx, reader, actor=Actor.reader(reader.id))
            else:
                code = request.form.get("code", "").strip()
                if not (len(code) == 6 and code.isascii() and code.isdigit()):
                    raise ReaderPassError("enter the 6 digits of the code", field="code")
                verification.confirm_code(db(), ctx, reader, code, actor=Actor.reader(reader.id))
            db().commit()
        except ReaderPassError as exc:
            db().rollback()
            error = exc.message
    status = 422 if error else 200
    return render_template("verify.html", reader=reader, error=error), status
