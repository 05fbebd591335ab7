"""The Koha backend against the contract, on a real MariaDB, plus Koha specifics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import URL, Engine, create_engine, delete, insert, select, update

from adapters.errors import ConfigError
from adapters.koha_sql import KohaConfig, KohaPatronStore, open_store
from adapters.koha_sql import schema as koha
from adapters.mapping import LibraryMapping, mapping_from_dict
from adapters.port import PatronStore
from adapters.registry import parse_adapter
from adapters.values import LocalPatron
from tests.adapters.contract import BRANCHES, CATEGORIES, PatronStoreContract, new_request, race
from tests.adapters.servers import closed_port, scratch_database

pytestmark = pytest.mark.mariadb

MAPPING = {
    "categories": {"adult": "ADULT", "child": "CHILD"},
    "default_branch": "MAIN",
    "expiry": {"policy": "months_from_today", "months": 36},
    "backlink_field": "READERPASS",
}


def mapping() -> LibraryMapping:
    return mapping_from_dict(MAPPING)


@pytest.fixture(scope="module")
def koha_url(mariadb_url: str) -> Iterator[URL]:
    with scratch_database(mariadb_url, "rp_koha") as url:
        engine = create_engine(url)
        koha.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(koha.branches), [{"branchcode": b, "branchname": b}
                                                 for b in BRANCHES])
            conn.execute(insert(koha.categories), [{"categorycode": c} for c in CATEGORIES])
            conn.execute(insert(koha.borrower_attribute_types), [
                {"code": "READERPASS", "description": "Province reader id", "unique_id": 1},
                {"code": "RPCREATE", "description": "Province create key", "unique_id": 1},
            ])
        engine.dispose()
        yield url


@pytest.fixture
def staff(koha_url: URL) -> Iterator[Engine]:
    """Direct access, as Koha itself or library staff would change the data."""
    engine = create_engine(koha_url)
    yield engine
    with engine.begin() as conn:
        conn.execute(delete(koha.borrowers))  # attributes and debarments cascade
        conn.execute(delete(koha.deletedborrowers))
    engine.dispose()


def koha_store(url: URL) -> KohaPatronStore:
    return open_store(KohaConfig(url=url.render_as_string(hide_password=False)), mapping())


class TestKohaStore(PatronStoreContract):
    @pytest.fixture
    def store(self, koha_url: URL, staff: Engine) -> Iterator[PatronStore]:
        store = koha_store(koha_url)
        yield store
        store.close()

    @pytest.fixture
    def unreachable_store(self, koha_url: URL) -> Iterator[PatronStore]:
        store = koha_store(koha_url.set(port=closed_port()))
        yield store
        store.close()

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        assert isinstance(store, KohaPatronStore)
        add_local_debarment(store, local_id, None)


def add_local_debarment(store: KohaPatronStore, local_id: str, until: date | None) -> None:
    """What Koha's AddDebarment does: a row plus the borrowers.debarred mirror."""
    with store._engine.begin() as conn:
        conn.execute(insert(koha.borrower_debarments).values(
            borrowernumber=int(local_id), expiration=until, type="MANUAL", comment="Unpaid fines",
        ))
        conn.execute(update(koha.borrowers).where(koha.borrowers.c.borrowernumber == int(local_id))
                     .values(debarred=until or date(9999, 12, 31), debarredcomment="Unpaid fines"))


def debarred(engine: Engine, local_id: str) -> date | None:
    with engine.connect() as conn:
        return conn.scalar(select(koha.borrowers.c.debarred)
                           .where(koha.borrowers.c.borrowernumber == int(local_id)))


def test_reinstate_restores_the_local_debarment_mirror(koha_url: URL, staff: Engine) -> None:
    store = koha_store(koha_url)
    patron = store.create(new_request(1), "k-1")
    add_local_debarment(store, patron.local_id, date(2099, 1, 1))
    store.suspend(patron.local_id, "identity under review")
    assert debarred(staff, patron.local_id) == date(9999, 12, 31)
    store.reinstate(patron.local_id)
    assert debarred(staff, patron.local_id) == date(2099, 1, 1)
    store.close()


def test_legacy_bare_debarment_survives_suspend_and_reinstate(
    koha_url: URL, staff: Engine
) -> None:
    store = koha_store(koha_url)
    patron = store.create(new_request(2), "k-2")
    with staff.begin() as conn:  # Koha < 3.12 wrote only the borrowers columns
        conn.execute(update(koha.borrowers)
                     .where(koha.borrowers.c.borrowernumber == int(patron.local_id))
                     .values(debarred=date(2098, 5, 1), debarredcomment="old block"))
    store.suspend(patron.local_id, "identity under review")
    after = store.reinstate(patron.local_id)
    assert after.blocked_locally and not after.blocked_by_province
    assert debarred(staff, patron.local_id) == date(2098, 5, 1)
    store.close()


def test_lost_card_counts_as_local_block(koha_url: URL, staff: Engine) -> None:
    store = koha_store(koha_url)
    patron = store.create(new_request(3), "k-3")
    with staff.begin() as conn:
        conn.execute(update(koha.borrowers)
                     .where(koha.borrowers.c.borrowernumber == int(patron.local_id))
                     .values(lost=1))
    fetched = store.get(patron.local_id)
    assert fetched is not None and fetched.blocked_locally
    store.close()


def test_two_processes_racing_one_key_make_one_borrower(koha_url: URL, staff: Engine) -> None:
    stores = [koha_store(koha_url) for _ in range(3)]  # separate pools, as separate processes
    results = race(3, lambda i: stores[i].create(new_request(4), "k-4"))
    assert all(isinstance(r, LocalPatron) for r in results), results
    assert len({r.local_id for r in results if isinstance(r, LocalPatron)}) == 1
    with staff.connect() as conn:
        assert len(list(conn.scalars(select(koha.borrowers.c.borrowernumber)))) == 1
    for store in stores:
        store.close()


def test_missing_attribute_type_fails_health(koha_url: URL, staff: Engine) -> None:
    config = KohaConfig(url=koha_url.render_as_string(hide_password=False),
                        create_key_attribute="NOSUCH")
    store = open_store(config, mapping())
    report = store.health()
    assert not report.ok and "NOSUCH" in report.detail
    store.close()


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"url": "postgresql://x/y"}, "lib.url"),
        ({"lock_timeout": 60}, "lib.lock_timeout"),
        ({"pool_size": 0}, "lib.pool_size"),
        ({"read_timout": 5}, "lib.read_timout"),
    ],
)
def test_bad_config_names_the_key(changes: dict[str, object], key: str) -> None:
    table = {"backend": "koha_sql", "url": "mysql+pymysql://koha@db/koha", "mapping": MAPPING}
    with pytest.raises(ConfigError) as caught:
        parse_adapter({**table, **changes}, "lib")
    assert caught.value.key == key
