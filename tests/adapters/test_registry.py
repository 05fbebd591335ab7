"""Registry: backend name -> typed config + factory; bad tables name the bad key."""

from __future__ import annotations

import pytest

from adapters.errors import ConfigError
from adapters.memory import FakeBackendWarning, MemoryPatronStore
from adapters.port import PatronStore
from adapters.registry import backend_names, open_adapter, parse_adapter

MAPPING = {
    "categories": {"adult": "ADULT"},
    "default_branch": "MAIN",
    "expiry": {"policy": "same_as_province"},
    "backlink_field": "READERPASS",
}


def memory_table(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "backend": "memory", "categories": ["ADULT"], "branches": ["MAIN"], "mapping": MAPPING,
    }
    data.update(changes)
    return data


def test_opens_a_registered_backend_and_warns_for_the_fake() -> None:
    with pytest.warns(FakeBackendWarning):
        adapter = open_adapter(memory_table(), "libraries.demo.adapter")
    assert isinstance(adapter.store, MemoryPatronStore)
    assert isinstance(adapter.store, PatronStore)
    assert adapter.mapping.default_branch == "MAIN"


def test_known_backends_are_listed() -> None:
    assert "memory" in backend_names()


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"backend": "sybase"}, "lib.backend"),
        ({"categories": "ADULT"}, "lib.categories"),
        ({"colour": "red"}, "lib.colour"),
        ({"mapping": {**MAPPING, "default_branch": ""}}, "lib.mapping.default_branch"),
    ],
)
def test_bad_table_names_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_adapter(memory_table(**changes), "lib")
    assert caught.value.key == key
    assert key in str(caught.value)


def test_missing_backend_is_named() -> None:
    data = memory_table()
    del data["backend"]
    with pytest.raises(ConfigError) as caught:
        parse_adapter(data, "lib")
    assert caught.value.key == "lib.backend"


def test_unknown_backend_error_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="memory"):
        parse_adapter(memory_table(backend="nope"), "lib")
