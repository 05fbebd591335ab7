"""A merge is one transaction, for real on PostgreSQL: a merge process killed
half-way through changes nothing; two merges that share a reader run one after
the other, and the second is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from idp.context import Context
from idp.models import OutboxItem, Reader, ReaderMerge
from idp.services import libraries
from idp.services import merge as merge_service
from idp.services.actor import Actor, Role
from idp.services.library_adapters import set_adapter
from idp.services.merge_rules import MergeRefused
from tests.idp.adapters.conftest import MEMORY_TABLE

from ..conftest import Clock
from ..conftest import registration as registration_body
from .conftest import Twins, register
from .pg import backend_alive, rows, wait_until, waiting_backends

ROOT = Path(__file__).resolve().parents[3]
APPLICATION = "readerpass-merge-test"
WAIT = 60  # seconds: a starting interpreter, not the code under test


def _config(ctx: Context, path: Path) -> Path:
    """Settings for a `readerpass` process on the test's database, with its keys."""
    security = ctx.settings.security
    url = make_url(ctx.settings.database_url).update_query_dict(
        {"application_name": APPLICATION}).render_as_string(hide_password=False)
    keys = ", ".join(f'"{k.get_secret_value()}"' for k in security.pii_keys)
    path.write_text(f"""instance_dir = {str(path.parent)!r}
[province]
code = "TEST"
name = "Test Province"
[database]
url = {url!r}
[security]
secret_key = {security.secret_key.get_secret_value()!r}
pii_keys = [{keys}]
hash_key = {security.hash_key.get_secret_value()!r}
argon2_memory_kib = 1024
""", encoding="utf-8")
    return path


def _merge_process(config: Path, twins: Twins) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "idp", "--config", str(config), "readers", "merge",
         twins.survivor, twins.other, "--yes", "--reason", "crash test"],
        cwd=config.parent, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_merge_killed_midway_changes_nothing(ctx: Context, twins: Twins, tmp_path: Path):
    with ctx.transaction() as session:  # the survivor's library hears of merges
        set_adapter(session, libraries.get_library(session, "PROV"), MEMORY_TABLE,
                    actor=Actor.cli(), now=ctx.now())
    config = _config(ctx, tmp_path / "readerpass.toml")
    before = rows(ctx.engine)
    # The merge writes its outbox items last: hold the outbox so it stops there.
    with ctx.engine.connect() as holder:
        holder.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        process = _merge_process(config, twins)
        try:
            [stuck] = wait_until(lambda: waiting_backends(ctx.engine, APPLICATION), WAIT,
                                 "the merge to block on the outbox")
            assert stuck["query"].lstrip().upper().startswith("INSERT INTO OUTBOX")
            assert stuck["xid"] is not None  # it has written before it got stuck
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]
            process.stderr.close()  # type: ignore[union-attr]
        holder.rollback()  # lets the orphaned backend run on, find its client gone, abort
    wait_until(lambda: not backend_alive(ctx.engine, stuck["pid"]), WAIT,
               "the killed merge's backend to end")
    assert rows(ctx.engine) == before

    again = subprocess.run(
        [sys.executable, "-m", "idp", "--config", str(config), "readers", "merge",
         twins.survivor, twins.other, "--yes"], cwd=tmp_path, text=True, capture_output=True,
        stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert f"merged {twins.other} into {twins.survivor}" in again.stdout
    with ctx.sessions() as session:
        other = session.get(Reader, twins.other)
        assert other.status == "merged" and other.merged_into == twins.survivor
        [record] = session.query(ReaderMerge).all()
        assert record.survivor_id == twins.survivor and record.state == "applied"
        assert [i.event for i in session.query(OutboxItem).filter_by(
            reader_id=twins.survivor, event="reader.merge")] == ["reader.merge"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_merges_of_one_reader_serialise(ctx: Context, people, clock: Clock,
                                                   monkeypatch):
    person = people.reader(min_age=30, max_age=50)
    first = register(ctx, registration_body(person))
    clock.advance(hours=1)
    second = register(ctx, registration_body(
        person, document_type="passport", document_number="E1234567", document_country="CHN",
        birth_date=person.birth_date.isoformat(), sex=person.sex))
    clock.advance(hours=1)
    shared = register(ctx, registration_body(
        person, document_type="passport", document_number="G7654321", document_country="CHN",
        birth_date=person.birth_date.isoformat(), sex=person.sex))

    real_plan = merge_service.plan_for
    holding = threading.Event()

    def plan_while_the_other_waits(session: Any, context: Context, *readers: Reader) -> Any:
        # The first merge holds both row locks here until the second is seen waiting.
        if threading.current_thread().name == "first":
            holding.set()
            wait_until(lambda: waiting_backends(ctx.engine), 20, "the second merge to wait")
        return real_plan(session, context, *readers)

    monkeypatch.setattr(merge_service, "plan_for", plan_while_the_other_waits)
    results: dict[str, Any] = {}

    def run(name: str, survivor: str) -> None:
        try:
            with ctx.transaction() as session:
                results[name] = merge_service.apply_merge(
                    session, ctx, survivor, shared.id, actor=Actor(Role.ADMIN, name)).id
        except Exception as exc:  # reported to the test below
            results[name] = exc

    threads = [threading.Thread(target=run, args=("first", first.id), name="first"),
               threading.Thread(target=run, args=("second", second.id), name="second")]
    threads[0].start()
    assert holding.wait(20)
    threads[1].start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    assert isinstance(results["first"], int)
    refused = results["second"]
    assert isinstance(refused, MergeRefused)
    assert f"reader {shared.id} is already merged into {first.id}" in str(refused)
    with ctx.sessions() as session:
        assert session.get(Reader, shared.id).merged_into == first.id
        assert session.get(Reader, second.id).status == "active"
        assert session.query(ReaderMerge).count() == 1
