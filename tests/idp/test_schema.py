"""Migrations on SQLite and PostgreSQL, the at-head check, health, append-only audit."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from idp import migrate
from idp.app import create_app
from idp.context import Context
from idp.migrate import SchemaNotCurrent
from idp.models import Base


def test_migrations_match_the_models(ctx):
    with ctx.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_downgrade_and_upgrade_round_trip(ctx):
    ctx.engine.dispose()
    migrate.downgrade(ctx.engine, "base")
    assert migrate.current_revision(ctx.engine) is None
    migrate.upgrade(ctx.engine)
    assert migrate.current_revision(ctx.engine) == migrate.head_revision(ctx.engine)


def test_app_refuses_a_database_that_is_not_at_head(ctx):
    migrate.downgrade(ctx.engine, "base")
    with pytest.raises(SchemaNotCurrent, match="readerpass db upgrade"):
        create_app(context=ctx)


def test_healthz_reports_database_and_schema(app, ctx):
    client = app.test_client()
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert ok.json["database"] == "ok" and ok.json["schema"] == ok.json["schema_head"]
    migrate.downgrade(ctx.engine, "base")
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.json["schema"] is None


def test_healthz_is_503_when_the_database_is_gone(settings, tmp_path):
    broken = settings.model_copy(update={"database": settings.database.model_copy(
        update={"url": f"sqlite:///{tmp_path}/missing/dir/x.db"})})
    context = Context.build(broken)
    app = create_app(context=context, check_schema=False)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


def test_audit_events_are_append_only_in_the_database(api, people, ctx):
    from .conftest import registration

    api.post("/api/readers", registration(people.reader(min_age=20)))
    for statement in ("UPDATE audit_events SET actor = 'someone else'",
                      "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), ctx.engine.begin() as connection:
            connection.execute(text(statement))
    with ctx.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 1
