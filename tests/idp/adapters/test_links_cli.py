"""``readerpass links ...`` against a Koha-shaped MariaDB library."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL

from adapters.koha_sql import KohaConfig, open_store
from adapters.mapping import mapping_from_dict
from adapters.values import CreateRequest
from idp.context import Context
from idp.models import Reader
from idp.services.libraries import get_library
from idp.services.provisioning import provision
from idp.settings import load_settings
from tests.idp.test_cli import Cmd, cmd  # noqa: F401  (fixture)

from .koha import empty_koha, koha_database, koha_table

pytestmark = pytest.mark.mariadb


@pytest.fixture(scope="module")
def koha_server(mariadb_url: str) -> Iterator[URL]:
    with koha_database(mariadb_url) as url:
        yield url


@pytest.fixture
def koha_url(koha_server: URL) -> Iterator[URL]:
    yield koha_server
    empty_koha(koha_server)


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def town(cmd: Cmd, koha_url: URL, tmp_path: Path) -> Cmd:  # noqa: F811
    table = koha_table(koha_url)
    lines = ['[[library]]', 'code = "TOWN"', 'name = "Town"', "[library.adapter]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    path = tmp_path / "town.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cmd("libraries", "load", str(path))
    assert "added 1" in out.stdout
    return cmd


def _reader(cmd: Cmd, person: Any) -> dict[str, Any]:  # noqa: F811
    out = cmd("readers", "add", "--family-name", person.family_name, "--given-name",
              person.given_name, "--document-number", person.resident_id, "--mobile",
              person.mobile, "--home-library", "PROV", "--json")
    return dict(json.loads(out.stdout))


def _provision(config: Path, reader_id: str) -> str:
    ctx = Context.build(load_settings(config))
    try:
        with ctx.transaction() as session:
            reader = session.get(Reader, reader_id)
            assert reader is not None
            return provision(session, ctx, reader, get_library(session, "TOWN")).state
    finally:
        ctx.dispose()


def test_list_show_unlink_and_link_again(town: Cmd, people):
    reader = _reader(town, people.reader(min_age=30))
    assert _provision(town.config, reader["id"]) == "linked"
    rows = town.json_lines("links", "list", "--library", "TOWN")
    assert [(r["reader_id"], r["state"], r["method"]) for r in rows] == [
        (reader["id"], "linked", "created")]
    shown = town.json_lines("links", "show", reader["card_number"], "town")[0]
    assert shown["local_barcode"] == reader["card_number"]
    town("links", "unlink", reader["id"], "TOWN", "--reason", "wrong person")
    assert town.json_lines("links", "show", reader["id"], "TOWN")[0]["state"] == "unlinked"
    again = town("links", "unlink", reader["id"], "TOWN", "--reason", "x", code=1)
    assert "already unlinked" in again.stderr
    relinked = town.json_lines("links", "link", reader["id"], "TOWN", shown["local_id"])[0]
    assert (relinked["state"], relinked["method"]) == ("linked", "staff_matched")
    missing = town("links", "link", reader["id"], "TOWN", "999999", code=1)
    assert "no local patron" in missing.stderr


def test_conflict_resolved_by_staff(town: Cmd, people, koha_url: URL):
    person = people.reader(min_age=30)
    reader = _reader(town, person)
    store = open_store(KohaConfig(url=koha_url.render_as_string(hide_password=False)),
                       mapping_from_dict(koha_table(koha_url)["mapping"]))
    born = date.fromisoformat(reader["birth_date"])
    twins = [store.create(CreateRequest(f"K{n}{reader['id'][:6]}", person.family_name,
                                        person.given_name, born, "ADULT", "MAIN",
                                        date(2030, 1, 1)), f"legacy-{n}-{reader['id']}")
             for n in (1, 2)]
    store.close()
    assert _provision(town.config, reader["id"]) == "conflict"
    conflict = town.json_lines("links", "list", "--state", "conflict")
    assert sorted(conflict[0]["candidates"]) == sorted(t.local_id for t in twins)
    bad = town("links", "resolve", reader["id"], "TOWN", code=2)
    assert "--create" in bad.stderr
    done = town.json_lines("links", "resolve", reader["id"], "TOWN", "--local-id",
                           twins[1].local_id, "--reason", "checked the card")[0]
    assert (done["state"], done["local_id"]) == ("linked", twins[1].local_id)
    assert town("links", "resolve", reader["id"], "TOWN", "--create", code=1).stderr


def test_outbox_run_offline_online_dead_and_retry(town: Cmd, people):
    person = people.reader(min_age=30)
    out = town("readers", "add", "--family-name", person.family_name, "--given-name",
               person.given_name, "--document-number", person.resident_id, "--mobile",
               person.mobile, "--home-library", "TOWN", "--json")
    reader = json.loads(out.stdout)
    assert [i["event"] for i in town.json_lines("outbox", "list")] == ["reader.register"]
    town("libraries", "offline", "TOWN", "--reason", "ILS upgrade")
    assert "(offline)" in town("outbox", "run", "--once", "--library", "TOWN").stdout
    town("libraries", "online", "town")
    ran = town("outbox", "run", "--once", "--library", "TOWN")
    assert "TOWN: delivered 1, retrying 0, dead 0" in ran.stdout
    assert town.json_lines("links", "show", reader["id"], "TOWN")[0]["state"] == "linked"
    family = _reader(town, people.reader(min_age=30))
    town("readers", "update", family["id"], "--category", "family", "--home-library", "TOWN")
    ran = town("outbox", "run", "--once")  # TOWN has no local category for family
    assert "dead 1" in ran.stdout and "no local category" in ran.stderr
    [dead] = town.json_lines("outbox", "dead", "--library", "TOWN")
    assert dead["reader_id"] == family["id"] and dead["event"] == "reader.update"
    assert "queued 1 again" in town("outbox", "retry", str(dead["id"])).stdout
    assert town.json_lines("outbox", "list", "--state", "pending")[0]["id"] == dead["id"]
    assert town("outbox", "retry", code=2).stderr
    assert "no undelivered" in town("outbox", "retry", "424242", code=1).stderr
    assert "dead 1" in town("outbox", "run", "--once").stdout
    assert "queued 1 again" in town("outbox", "retry", "--all-dead", "--library", "TOWN").stdout
    assert "purged 0 delivered items" in town("outbox", "purge", "--older-than", "30").stdout
    assert town("outbox", "purge", "--older-than", "0", code=2).stderr


def test_import_from_koha_and_from_a_csv_file(town: Cmd, koha_url: URL, tmp_path: Path):
    store = open_store(KohaConfig(url=koha_url.render_as_string(hide_password=False)),
                       mapping_from_dict(koha_table(koha_url)["mapping"]))
    for n in range(5):
        store.create(CreateRequest(f"KB{n}", f"姓{n}", "名", date(1980, 1, 1 + n), "ADULT",
                                   "MAIN", date(2030, 1, 1)), f"old-{n}")
    store.close()
    dry = town("import", "--library", "TOWN", "--batch-size", "2", "--dry-run")
    assert dry.stdout.startswith("dry run: read 5, created 5")
    assert town.json_lines("links", "list") == []
    ran = town("import", "--library", "TOWN", "--batch-size", "2")
    assert "read 5, created 5, matched 0, linked 5" in ran.stdout
    assert "patrons/s" in ran.stderr
    assert "delivered 5" in town("outbox", "run", "--once").stdout  # back-links written
    assert town.json_lines("libraries", "reconcile", "TOWN") == []
    csv_path = tmp_path / "legacy.csv"
    csv_path.write_text("local_id,barcode,family_name,given_name,birth_date,mobile\n"
                        "X1,XB1,王,小明,1975-03-04,138 0013 8000\n"
                        "X2,XB2,,無名,1975-03-04,\n", encoding="utf-8")
    ran = town("import", "--library", "UNIV", "--file", str(csv_path))
    assert "read 2, created 1" in ran.stdout and "not_imported 1" in ran.stdout
    issues = town.json_lines("import-issues", "--library", "UNIV")
    assert [(i["source"], i["kind"]) for i in issues] == [("record 2", "not_imported")]
    assert "family_name: is missing" in issues[0]["problem"]
    again = town("import", "--library", "UNIV", "--file", str(csv_path))
    assert "already_imported 2, not_imported 0, issues 0" in again.stdout
