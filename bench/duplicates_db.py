"""The database path of the duplicates benchmark: the population in PostgreSQL, then
the real scan.

A fresh, migrated identity database receives the readers, the documents they hold
and their blocking keys by COPY (the way an onboarding import writes them), with
personal numbers encrypted and hashed under the installation's own keys. The scan
then runs in a fresh process (``python -m bench.duplicates_dbscan``) that builds its
Context from the settings file, so its wall time and peak memory are its own; the
pairs it wrote to ``duplicate_pairs`` are read back and mapped to the ground truth.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.adapters_setup import scratch
from bench.duplicates_prep import Row, prepare
from bench.population import LIBRARIES, TODAY, Registration
from idp import migrate
from idp.config_file import render_config, write_config
from idp.context import Context
from idp.identity.documents import normalise_document
from idp.models import Library
from idp.schemas import LibraryIn
from idp.services import libraries
from idp.services.actor import Actor
from idp.services.names import search_name
from idp.services.numbers import luhn_digit
from idp.services.registration import DOCUMENT_CONTEXT, MOBILE_CONTEXT
from idp.settings import load_settings

POSTGRES_VARIABLE = "READERPASS_TEST_POSTGRES_URL"
STAMP = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


def library_code(n: int) -> str:
    return f"L{n:02d}"


@contextmanager
def installation(server_url: str, workdir: Path, *, max_block: int, threshold: float
                 ) -> Iterator[Path]:
    """A scratch database with migrated schema and the member libraries; yields the
    settings file."""
    with scratch(server_url, "dup_bench") as url:
        config = workdir / "readerpass.toml"
        settings = render_config(
            province_code="BENCH", province_name="Bench", instance_dir=str(workdir),
            database_url=url.render_as_string(hide_password=False),
            public_url="http://127.0.0.1", secure_cookies=False)
        settings += (f"\n[duplicates]\nreview_threshold = {threshold}\n"
                     f"max_block = {max_block}\ncheck_online = false\n")
        write_config(config, settings)
        ctx = Context.build(load_settings(config))
        try:
            migrate.upgrade(ctx.engine)
            with ctx.transaction() as session:
                for n in range(LIBRARIES):
                    libraries.add_library(session, LibraryIn(code=library_code(n),
                                                             name=f"Library {n}"),
                                          actor=Actor.cli(), now=STAMP)
        finally:
            ctx.dispose()
        yield config


def _copy(ctx: Context, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]
          ) -> None:
    with ctx.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def load(ctx: Context, registrations: Sequence[Registration], rows: Sequence[Row],
         keys: Sequence[tuple[str, str, int]]) -> None:
    with ctx.sessions() as session:
        library_ids = {code: id_ for code, id_ in session.query(Library.code, Library.id)}
    cipher = ctx.cipher
    expires = TODAY.replace(year=TODAY.year + 5)

    def readers() -> Iterator[Sequence[Any]]:
        for index, (reg, row) in enumerate(zip(registrations, rows, strict=True)):
            body = f"9{index:011d}"
            yield (row.reader_id, body + luhn_digit(body), row.family_name, row.given_name,
                   search_name(row.family_name, row.given_name), row.sex, row.birth_date,
                   cipher.encrypt(reg.mobile, context=MOBILE_CONTEXT) if reg.mobile else None,
                   row.mobile_hash, "adult", "active", "self_asserted",
                   library_ids[library_code(row.library)], expires, STAMP, STAMP, 1)

    def documents() -> Iterator[Sequence[Any]]:
        for reg, row in zip(registrations, rows, strict=True):
            if row.document is None or not row.document[1] or reg.resident_id is None:
                continue
            normalised = normalise_document("resident_id", reg.resident_id, today=TODAY)
            yield (row.reader_id, "resident_id", "CHN",
                   cipher.encrypt(normalised.number, context=DOCUMENT_CONTEXT),
                   row.document[0], normalised.converted_from_15, STAMP)

    _copy(ctx, "readers", ("id", "card_number", "family_name", "given_name", "search_name",
                           "sex", "birth_date", "mobile_enc", "mobile_hash", "category",
                           "status", "assurance", "home_library_id", "expires_on",
                           "created_at", "updated_at", "version"), readers())
    _copy(ctx, "identity_documents", ("reader_id", "doc_type", "country", "number_enc",
                                      "match_hash", "converted_from_15", "created_at"),
          documents())
    _copy(ctx, "reader_match_keys", ("reader_id", "kind", "digest"),
          ((rows[index].reader_id, kind, digest) for kind, digest, index in keys))
    with ctx.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def scan_in_database(registrations: list[Registration], seed: int, *, max_block: int,
                     threshold: float) -> tuple[dict[str, Any], float]:
    server = os.environ.get(POSTGRES_VARIABLE)
    if not server:
        raise SystemExit(f"--mode db needs {POSTGRES_VARIABLE} (source .ci/env)")
    with tempfile.TemporaryDirectory(prefix="dup-bench-") as workdir, installation(
            server, Path(workdir), max_block=max_block, threshold=threshold) as config:
        started = time.perf_counter()
        ctx = Context.build(load_settings(config))
        try:
            rows, keys = prepare(registrations, ctx.hasher, seed)
            load(ctx, registrations, rows, keys)
        finally:
            ctx.dispose()
        prepare_seconds = time.perf_counter() - started
        index = {row.reader_id: n for n, row in enumerate(rows)}
        del rows, keys
        result = Path(workdir) / "result.pickle"
        subprocess.run([sys.executable, "-m", "bench.duplicates_dbscan", str(config),
                        str(result)], check=True, stdout=subprocess.DEVNULL,
                       cwd=Path(__file__).resolve().parents[1])
        with result.open("rb") as source:
            outcome: dict[str, Any] = pickle.load(source)
    outcome["pairs"] = [(index[a], index[b], auto, weight)
                        for a, b, auto, weight in outcome["pairs"]]
    return outcome, prepare_seconds
