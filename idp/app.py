"""The Flask application factory (STYLE: one app factory, no module-level app)."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from . import migrate
from .context import Context
from .settings import Settings, load_settings
from .web.headers import SecurityHeaders


def create_app(
    settings: Settings | None = None,
    *,
    context: Context | None = None,
    check_schema: bool = True,
) -> Flask:
    """Build the app. Refuses a database that is not at the migration head."""
    if context is None:
        context = Context.build(settings or load_settings())
    settings = context.settings
    if check_schema:
        migrate.ensure_current(context.engine)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.security.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=settings.server.max_request_bytes,
        SESSION_COOKIE_SECURE=settings.security.session_cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=1),
        WTF_CSRF_TIME_LIMIT=3600,
        JSON_SORT_KEYS=False,
    )
    app.extensions["readerpass"] = context

    csrf = CSRFProtect(app)

    from . import cardsvc, oidc
    from .api import api, problems
    from .web import health, pages, stateless

    problems.register(app)
    csrf.exempt(api)  # bearer-token API: no cookies, so no CSRF
    app.register_blueprint(api)
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    oidc.init_app(app, context)
    cardsvc.init_app(app, context)
    stateless.install(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()

    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

    return app


def current_context() -> Context:
    from flask import current_app

    context: Context = current_app.extensions["readerpass"]
    return context


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = current_context().sessions()
    session: Session = g.db
    return session
