"""Port values refuse bad input with the field named; errors carry their data."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from adapters import Capability, CapabilityMissing, Rejected, Unavailable, VersionConflict
from adapters.values import CreateRequest, PatronMatch, PatronPatch


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"barcode": " "}, "barcode"), ({"barcode": "B1 "}, "barcode"),
     ({"surname": ""}, "surname"), ({"category": ""}, "category"), ({"branch": " "}, "branch")],
)
def test_create_request_names_the_bad_field(changes: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "barcode": "B1", "surname": "Li", "first_name": "", "birth_date": None,
        "category": "ADULT", "branch": "MAIN", "expiry": date(2030, 1, 1),
    }
    with pytest.raises(Rejected) as caught:
        CreateRequest(**{**fields, **changes})  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize("criteria", [{}, {"surname": "Li"}, {"birth_date": date(2000, 1, 1)}])
def test_match_needs_an_identifying_criterion(criteria: dict[str, object]) -> None:
    with pytest.raises(Rejected):
        PatronMatch(**criteria)  # type: ignore[arg-type]


def test_patch_emptiness() -> None:
    assert PatronPatch().is_empty()
    assert not PatronPatch(expiry=date(2030, 1, 1)).is_empty()


def test_errors_carry_data_and_retryability() -> None:
    assert Unavailable("down", backend="koha_sql").retryable
    conflict = VersionConflict("stale", local_id="7", expected="a", actual="b")
    assert not conflict.retryable and (conflict.expected, conflict.actual) == ("a", "b")
    missing = CapabilityMissing(Capability.MERGE, backend="folio_rest")
    assert "MERGE" in str(missing) and missing.capability is Capability.MERGE


def test_adapters_do_not_import_idp_or_drivers_until_asked() -> None:
    code = ("import sys, adapters, adapters.registry; "
            "print(sorted(m for m in ('idp', 'sqlalchemy', 'pymysql') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
