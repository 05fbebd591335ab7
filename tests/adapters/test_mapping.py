"""Per-library mapping: validation names the bad key; conversion follows the policy."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from adapters.errors import ConfigError, Rejected
from adapters.mapping import (
    MonthsFromToday,
    ProvinceCategory,
    ProvinceReader,
    SameAsProvince,
    add_months,
    mapping_from_dict,
)


def table(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "categories": {"adult": "PT", "child": "J", "teen": "YA"},
        "default_branch": "MAIN",
        "expiry": {"policy": "months_from_today", "months": 36},
        "backlink_field": "READERPASS",
    }
    data.update(changes)
    return data


READER = ProvinceReader(
    reader_id="R-1", surname="Chen", first_name="Jing", birth_date=date(2012, 3, 1),
    category=ProvinceCategory.CHILD, expiry=date(2029, 12, 31),
)


def test_create_request_maps_category_branch_and_expiry() -> None:
    mapping = mapping_from_dict(table())
    request = mapping.create_request(READER, barcode="B1", today=date(2024, 1, 31))
    assert (request.category, request.branch, request.expiry) == ("J", "MAIN", date(2027, 1, 31))
    east = mapping.create_request(READER, barcode="B1", today=date(2024, 1, 31), branch="EAST")
    assert east.branch == "EAST"


def test_months_policy_leaves_expiry_to_the_library_on_update() -> None:
    assert mapping_from_dict(table()).patch(READER).expiry is None


def test_same_as_province_copies_expiry_on_create_and_update() -> None:
    mapping = mapping_from_dict(table(expiry={"policy": "same_as_province"}))
    assert isinstance(mapping.expiry, SameAsProvince)
    assert mapping.create_request(READER, barcode="B", today=date(2024, 1, 1)).expiry == date(
        2029, 12, 31
    )
    assert mapping.patch(READER).expiry == date(2029, 12, 31)
    no_expiry = dataclasses.replace(READER, expiry=None)
    with pytest.raises(Rejected) as caught:
        mapping.create_request(no_expiry, barcode="B", today=date(2024, 1, 1))
    assert caught.value.field == "expiry"


def test_unmapped_category_is_rejected() -> None:
    mapping = mapping_from_dict(table())
    family = ProvinceReader(
        reader_id="R-2", surname="Chen", first_name="", birth_date=None,
        category=ProvinceCategory.FAMILY, expiry=None,
    )
    with pytest.raises(Rejected) as caught:
        mapping.create_request(family, barcode="B2", today=date(2024, 1, 1))
    assert caught.value.field == "category"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"categories": {"senior": "S"}}, "mapping.categories.senior"),
        ({"categories": {"adult": ""}}, "mapping.categories.adult"),
        ({"categories": {}}, "mapping.categories"),
        ({"default_branch": 7}, "mapping.default_branch"),
        ({"expiry": {"policy": "forever"}}, "mapping.expiry.policy"),
        ({"expiry": {"policy": "months_from_today", "months": 0}}, "mapping.expiry.months"),
        ({"expiry": {"policy": "months_from_today", "months": True}}, "mapping.expiry.months"),
        ({"expiry": {"policy": "same_as_province", "months": 3}}, "mapping.expiry.months"),
        ({"backlink_feld": "X"}, "mapping.backlink_feld"),
    ],
)
def test_bad_mapping_names_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        mapping_from_dict(table(**changes))
    assert caught.value.key == key


def test_missing_key_is_named() -> None:
    data = table()
    del data["backlink_field"]
    with pytest.raises(ConfigError) as caught:
        mapping_from_dict(data)
    assert caught.value.key == "mapping.backlink_field"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 15), 3, date(2025, 2, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected
    assert MonthsFromToday(months).at_create(None, start) == expected
