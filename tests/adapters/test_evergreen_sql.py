"""The Evergreen backend against the contract, on a real PostgreSQL, plus specifics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import URL, Engine, create_engine, insert, select, text, update

from adapters.errors import ConfigError, Conflict
from adapters.evergreen_sql import EvergreenConfig, EvergreenPatronStore, open_store
from adapters.evergreen_sql import schema as eg
from adapters.mapping import mapping_from_dict
from adapters.port import PatronStore
from adapters.registry import parse_adapter
from adapters.values import PatronMatch
from tests.adapters.contract import BRANCHES, CATEGORIES, PatronStoreContract, new_request
from tests.adapters.evergreen_seed import (
    LOCAL_PENALTY,
    NOTE_PENALTY,
    PROVINCE_PENALTY,
    seed_evergreen,
)
from tests.adapters.servers import closed_port, scratch_database

pytestmark = pytest.mark.postgres

MAPPING = {
    "categories": {"adult": "ADULT", "child": "CHILD"},
    "default_branch": "MAIN",
    "expiry": {"policy": "same_as_province"},
    "backlink_field": "ident_value2",
}


@pytest.fixture(scope="module")
def evergreen_url(postgres_url: str) -> Iterator[URL]:
    with scratch_database(postgres_url, "rp_evergreen") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            seed_evergreen(conn, BRANCHES, CATEGORIES)
        engine.dispose()
        yield url


@pytest.fixture
def staff(evergreen_url: URL) -> Iterator[Engine]:
    """Direct access, as Evergreen's staff client would change the data."""
    engine = create_engine(evergreen_url)
    yield engine
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE actor.usr_setting, actor.usr_standing_penalty, "
                          "actor.card, actor.usr"))
    engine.dispose()


def evergreen_store(url: URL) -> EvergreenPatronStore:
    config = EvergreenConfig(
        url=url.render_as_string(hide_password=False), backlink_ident_type=101,
        default_ident_type=3, province_penalty=PROVINCE_PENALTY,
    )
    return open_store(config, mapping_from_dict(MAPPING))


def add_penalty(engine: Engine, local_id: str, penalty: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(eg.usr_standing_penalty).values(
            usr=int(local_id), org_unit=1, standing_penalty=penalty, note="by staff"))


class TestEvergreenStore(PatronStoreContract):
    @pytest.fixture
    def store(self, evergreen_url: URL, staff: Engine) -> Iterator[PatronStore]:
        store = evergreen_store(evergreen_url)
        yield store
        store.close()

    @pytest.fixture
    def unreachable_store(self, evergreen_url: URL) -> Iterator[PatronStore]:
        store = evergreen_store(evergreen_url.set(port=closed_port()))
        yield store
        store.close()

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        assert isinstance(store, EvergreenPatronStore)
        add_penalty(store._engine, local_id, LOCAL_PENALTY)


@pytest.fixture
def store(evergreen_url: URL, staff: Engine) -> Iterator[EvergreenPatronStore]:
    store = evergreen_store(evergreen_url)
    yield store
    store.close()


def test_soft_deleted_patrons_are_invisible(store: EvergreenPatronStore, staff: Engine) -> None:
    patron = store.create(new_request(1), "k-1")
    store.write_backlink(patron.local_id, "R-1")
    with staff.begin() as conn:
        conn.execute(update(eg.usr).where(eg.usr.c.id == int(patron.local_id))
                     .values(deleted=True))
    assert store.get(patron.local_id) is None
    assert store.find(PatronMatch(barcode=patron.barcode)) is None
    assert store.find(PatronMatch(reader_id="R-1")) is None
    # The card row still holds the barcode, so Evergreen refuses to reuse it.
    with pytest.raises(Conflict):
        store.create(new_request(1), "k-other")


def test_card_is_the_users_primary_card(store: EvergreenPatronStore, staff: Engine) -> None:
    patron = store.create(new_request(2), "k-2")
    with staff.connect() as conn:
        row = conn.execute(select(eg.usr.c.card, eg.card.c.id, eg.card.c.active, eg.usr.c.usrname)
                           .join(eg.card, eg.card.c.usr == eg.usr.c.id)
                           .where(eg.usr.c.id == int(patron.local_id))).one()
    assert row.card == row.id and row.active and row.usrname == new_request(2).barcode


def test_second_active_card_is_refused(store: EvergreenPatronStore, staff: Engine) -> None:
    patron = store.create(new_request(3), "k-3")
    with pytest.raises(Exception, match="actor_card_one_active_per_usr"), staff.begin() as conn:
        conn.execute(insert(eg.card).values(usr=int(patron.local_id), barcode="other"))


@pytest.mark.parametrize(("penalty", "blocked"), [(NOTE_PENALTY, False), (LOCAL_PENALTY, True)])
def test_only_blocking_penalties_block(
    store: EvergreenPatronStore, staff: Engine, penalty: int, blocked: bool
) -> None:
    patron = store.create(new_request(4), "k-4")
    add_penalty(staff, patron.local_id, penalty)
    fetched = store.get(patron.local_id)
    assert fetched is not None and fetched.blocked_locally is blocked


def test_barred_flag_survives_reinstate(store: EvergreenPatronStore, staff: Engine) -> None:
    patron = store.create(new_request(5), "k-5")
    with staff.begin() as conn:
        conn.execute(update(eg.usr).where(eg.usr.c.id == int(patron.local_id)).values(barred=True))
    store.suspend(patron.local_id, "identity under review")
    after = store.reinstate(patron.local_id)
    assert after.blocked_locally and not after.blocked_by_province
    with staff.connect() as conn:
        assert conn.scalar(select(eg.usr.c.barred).where(eg.usr.c.id == int(patron.local_id)))


def test_backlink_needs_an_identification_column() -> None:
    table = {"backend": "evergreen_sql", "url": "postgresql+psycopg://eg@db/evergreen",
             "backlink_ident_type": 101, "default_ident_type": 3, "province_penalty": 101,
             "mapping": {**MAPPING, "backlink_field": "email"}}
    with pytest.raises(ConfigError) as caught:
        parse_adapter(table, "lib")
    assert caught.value.key == "lib.mapping.backlink_field"


@pytest.mark.parametrize(("changes", "key"), [
    ({"province_penalty": "101"}, "lib.province_penalty"),
    ({"url": "mysql+pymysql://x/y"}, "lib.url"),
    ({"lock_timeout": 40}, "lib.lock_timeout"),
])
def test_bad_config_names_the_key(changes: dict[str, object], key: str) -> None:
    table = {"backend": "evergreen_sql", "url": "postgresql+psycopg://eg@db/evergreen",
             "backlink_ident_type": 101, "default_ident_type": 3, "province_penalty": 101,
             "mapping": MAPPING}
    with pytest.raises(ConfigError) as caught:
        parse_adapter({**table, **changes}, "lib")
    assert caught.value.key == key
