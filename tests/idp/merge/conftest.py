"""Fixtures for merges: two registrations of one person (a resident ID, then a
passport a day later), a library whose patron store can merge (CITY, the memory
reference store) and one whose store cannot (UNIV)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from adapters import CORE, LibraryAdapter, mapping_from_dict
from adapters.memory import MemoryPatronStore
from idp.context import Context
from idp.models import Reader
from idp.schemas import LibraryIn, RegistrationIn
from idp.services import libraries, links, registration
from idp.services.actor import Actor
from idp.services.library_adapters import set_adapter
from idp.synthetic import IdentityGenerator
from tests.idp.adapters.conftest import MAPPING, MEMORY_TABLE, city, store  # noqa: F401
from tests.idp.cards.conftest import card_keys  # noqa: F401  (fixture)
from tests.idp.oidc.conftest import (  # noqa: F401  (fixtures)
    browser,
    make_client,
    reader,
    signed_in,
    signing_keys,
)

from ..conftest import Clock
from ..conftest import registration as registration_body


@dataclass
class Twins:
    """One person registered twice: ``survivor`` first (older account)."""

    survivor: str
    other: str
    person: Any
    other_mobile: str


def register(ctx: Context, body: dict[str, Any]) -> Reader:
    with ctx.transaction() as session:
        return registration.register_reader(session, ctx, RegistrationIn(**body),
                                            actor=Actor.cli())


@pytest.fixture
def twins(ctx: Context, people: IdentityGenerator, clock: Clock) -> Twins:
    person = people.reader(min_age=25, max_age=60)
    first = register(ctx, registration_body(person))
    clock.advance(days=1)
    mobile = people.reader().mobile
    second = register(ctx, registration_body(
        person, document_type="passport", document_number="E" + person.resident_id[-8:],
        document_country="CHN", birth_date=person.birth_date.isoformat(), sex=person.sex,
        mobile=mobile, home_library="CITY", password=None))
    return Twins(first.id, second.id, person, mobile)


@pytest.fixture
def univ_store(ctx: Context) -> MemoryPatronStore:
    """UNIV: a library whose patron store cannot merge patrons."""
    cannot = MemoryPatronStore(["ADULT", "YA", "CHILD"], ["MAIN"], capabilities=CORE)
    with ctx.transaction() as session:
        library = libraries.add_library(session, LibraryIn(code="UNIV", name="University"),
                                        actor=Actor.cli(), now=ctx.now())
        set_adapter(session, library, MEMORY_TABLE, actor=Actor.cli(), now=ctx.now())
    ctx.adapters.install("UNIV", LibraryAdapter(cannot, mapping_from_dict(MAPPING)))
    return cannot


def link_both(ctx: Context, reader_id: str, library: str, patrons: MemoryPatronStore,
              surname: str) -> str:
    """Make a local patron for the reader and link it by hand; its local id."""
    from adapters.values import CreateRequest

    with ctx.transaction() as session:
        reader = session.get(Reader, reader_id)
        assert reader is not None
        request = CreateRequest(barcode=f"L{reader.card_number}", surname=surname,
                                first_name=reader.given_name, birth_date=reader.birth_date,
                                category="ADULT", branch="MAIN", expiry=reader.expires_on)
        patron = patrons.create(request, f"test:{reader_id}:{library}")
        lib = libraries.get_library(session, library)
        links.staff_link(session, ctx, reader, lib, patron.local_id, actor=Actor.cli())
        return patron.local_id
