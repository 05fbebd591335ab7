"""``readerpass import`` from a FOLIO library: patrons listed page by page through
mod-users (the local fake, over HTTP), linked, back-links written by the relay."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters.folio_rest import FolioConfig, FolioPatronStore, open_store
from adapters.mapping import mapping_from_dict
from adapters.values import CreateRequest
from tests.adapters.folio_fake import FolioFake
from tests.adapters.test_folio_rest import MAPPING, folio_server  # noqa: F401  (fixture)
from tests.idp.test_cli import Cmd, cmd  # noqa: F401  (fixture)

from .test_links_cli import toml_value


@pytest.fixture
def folio(folio_server: tuple[FolioFake, str]) -> tuple[FolioFake, str]:  # noqa: F811
    fake, _ = folio_server
    fake.reset()
    for name in ("ADULT", "CHILD"):
        fake.seed("groups", {"group": name})
    fake.seed("service-points", {"code": "MAIN", "name": "Main"})
    return folio_server


@pytest.fixture
def folio_lib(cmd: Cmd, folio: tuple[FolioFake, str], tmp_path: Path) -> Cmd:  # noqa: F811
    table = {"backend": "folio_rest", "url": folio[1], "tenant": "diku", "mapping": MAPPING}
    lines = ['[[library]]', 'code = "FOLIO"', 'name = "Folio Library"', "[library.adapter]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    path = tmp_path / "folio.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "added 1" in cmd("libraries", "load", str(path)).stdout
    return cmd


def test_import_from_folio(folio_lib: Cmd, folio: tuple[FolioFake, str]):
    store: FolioPatronStore = open_store(FolioConfig(url=folio[1], tenant="diku"),
                                         mapping_from_dict(MAPPING))
    made = [store.create(CreateRequest(f"FB{n}", f"Surname{n}", "Given", date(1980, 1, 1 + n),
                                       "ADULT", "MAIN", date(2030, 1, 1)), f"legacy-{n}")
            for n in range(7)]
    ran = folio_lib("import", "--library", "FOLIO", "--batch-size", "3")
    assert "read 7, created 7, matched 0, linked 7" in ran.stdout
    links = folio_lib.json_lines("links", "list", "--library", "FOLIO")
    assert sorted(link["local_id"] for link in links) == sorted(p.local_id for p in made)
    assert "delivered 7" in folio_lib("outbox", "run", "--once").stdout
    by_patron = {link["local_id"]: link["reader_id"] for link in links}
    for patron in made:  # the relay wrote each reader's id into externalSystemId
        fetched = store.get(patron.local_id)
        assert fetched is not None and fetched.reader_id == by_patron[patron.local_id]
    again = folio_lib("import", "--library", "FOLIO")
    assert "read 7, created 0, matched 0, linked 0, already_imported 7" in again.stdout
