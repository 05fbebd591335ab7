"""Two readers linked to two Koha patrons are merged centrally; the relay has Koha
merge the patrons (Capability.MERGE), and one Koha patron remains."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import URL, create_engine, func, select

from adapters.koha_sql import KohaConfig, open_store
from adapters.koha_sql import schema as koha
from adapters.mapping import mapping_from_dict
from adapters.values import CreateRequest
from tests.idp.test_cli import Cmd, cmd  # noqa: F401  (fixture)

from .koha import koha_table
from .test_links_cli import koha_server, koha_url, town  # noqa: F401  (fixtures)

pytestmark = pytest.mark.mariadb


def _add(cmd: Cmd, person, *extra: str) -> dict:  # noqa: F811
    out = cmd("readers", "add", "--family-name", person.family_name, "--given-name",
              person.given_name, "--home-library", "PROV", "--json", *extra)
    return dict(json.loads(out.stdout))


def _koha(url: URL) -> tuple[dict[int, str | None], list[int]]:
    """Koha's patrons with their back-links, and the deleted patrons."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            attrs = koha.borrower_attributes.c
            links = dict(conn.execute(
                select(koha.borrowers.c.borrowernumber, attrs.attribute)
                .outerjoin(koha.borrower_attributes,
                           (attrs.borrowernumber == koha.borrowers.c.borrowernumber)
                           & (attrs.code == "READERPASS"))).all())
            deleted = list(conn.scalars(select(koha.deletedborrowers.c.borrowernumber)))
            assert conn.scalar(select(func.count()).select_from(koha.borrower_attributes)
                               .where(attrs.code == "RPCREATE")) == len(links)
            return links, deleted
    finally:
        engine.dispose()


def test_merged_readers_leave_one_koha_patron(town: Cmd, koha_url: URL, people):  # noqa: F811
    person = people.reader(min_age=30, max_age=50)
    first = _add(town, person, "--document-number", person.resident_id, "--mobile",
                 person.mobile)
    second = _add(town, person, "--document-type", "passport", "--document-number",
                  "E" + person.resident_id[-8:], "--document-country", "CHN", "--birth-date",
                  person.birth_date.isoformat(), "--mobile", people.reader().mobile)
    store = open_store(KohaConfig(url=koha_url.render_as_string(hide_password=False)),
                       mapping_from_dict(koha_table(koha_url)["mapping"]))
    for n, reader in enumerate((first, second)):  # two cards the library issued long ago
        patron = store.create(CreateRequest(f"OLD{n}", person.family_name, person.given_name,
                                            person.birth_date, "ADULT", "MAIN",
                                            date(2030, 1, 1)), f"legacy-{n}")
        town("links", "link", reader["id"], "TOWN", patron.local_id)
    store.close()
    before, _ = _koha(koha_url)
    assert sorted(v for v in before.values() if v) == sorted([first["id"], second["id"]])
    kept = next(n for n, link in before.items() if link == first["id"])
    other = next(n for n, link in before.items() if link == second["id"])

    town("readers", "merge", first["id"], second["id"], "--yes", "--reason", "one person")
    ran = town("outbox", "run", "--once", "--library", "TOWN")
    assert "TOWN: delivered 1, retrying 0, dead 0" in ran.stdout
    after, deleted = _koha(koha_url)
    assert after == {kept: first["id"]} and deleted == [other]
    links = {r["reader_id"]: r for r in town.json_lines("links", "list", "--library", "TOWN")}
    assert (links[first["id"]]["state"], links[first["id"]]["local_id"]) == ("linked", str(kept))
    assert links[second["id"]]["state"] == "unlinked"
    # Nothing left to do: another run delivers nothing and changes nothing at Koha.
    assert "delivered 0" in town("outbox", "run", "--once", "--library", "TOWN").stdout
    assert _koha(koha_url) == (after, deleted)
