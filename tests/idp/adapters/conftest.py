"""Fixtures for the identity side of the adapters: a member library (CITY) whose
patron store is the in-memory reference backend, and readers to link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters import LibraryAdapter, mapping_from_dict
from adapters.memory import MemoryPatronStore
from idp.context import Context
from idp.models import Library, Reader
from idp.schemas import RegistrationIn
from idp.services import libraries, registration
from idp.services.actor import Actor
from idp.services.library_adapters import set_adapter
from idp.synthetic import IdentityGenerator
from tests.idp.conftest import registration as registration_body

MAPPING: dict[str, Any] = {
    "categories": {"adult": "ADULT", "teen": "YA", "child": "CHILD"},
    "default_branch": "MAIN",
    "expiry": {"policy": "same_as_province"},
    "backlink_field": "READERPASS",
}
MEMORY_TABLE: dict[str, Any] = {
    "backend": "memory", "categories": ["ADULT", "YA", "CHILD"], "branches": ["MAIN"],
    "mapping": MAPPING,
}


@pytest.fixture
def store() -> MemoryPatronStore:
    return MemoryPatronStore(["ADULT", "YA", "CHILD"], ["MAIN"])


@pytest.fixture
def city(ctx: Context, store: MemoryPatronStore) -> str:
    """CITY has an adapter configured; the pool hands out ``store`` for it."""
    with ctx.transaction() as session:
        library = libraries.get_library(session, "CITY")
        set_adapter(session, library, MEMORY_TABLE, actor=Actor.cli(), now=ctx.now())
    ctx.adapters.install("CITY", LibraryAdapter(store, mapping_from_dict(MAPPING)))
    return "CITY"


RegisterFn = Callable[..., Reader]


@pytest.fixture
def register(ctx: Context, people: IdentityGenerator) -> RegisterFn:
    """Register a synthetic adult reader (home library PROV unless told)."""

    def make(**over: Any) -> Reader:
        person = people.reader(min_age=20, max_age=70)
        body = registration_body(person, password=None, **over)
        with ctx.transaction() as session:
            return registration.register_reader(session, ctx, RegistrationIn(**body),
                                                actor=Actor.cli())

    return make


def library(session: Any, code: str) -> Library:
    return libraries.get_library(session, code)
