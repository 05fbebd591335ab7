"""Every operation of the staff API's OpenAPI document under generated requests:
path parameters, query strings and JSON bodies of any shape (and valid bodies
with one field replaced). Never a server error; every refusal is a problem
document (RFC 9457) with the status it is sent with."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import registration

#: Any JSON value, nested a little (the gate endpoints' tests use it too).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=5),
    max_leaves=15)
NASTY = ["\x00", "%00", "..", "x" * 2000, "é", "𠀀", " ", "-1", "0", "99999999999999999999",
         "null", "[]", "PROV", "CITY"]


def test_generated_requests_to_every_operation(app, api, people):
    document = app.test_client().get("/api/openapi.json").json
    operations = sorted((path, method) for path, ops in document["paths"].items()
                        for method in ops)
    reader = api.post("/api/readers", registration(people.reader(min_age=20))).json
    valid = registration(people.reader(min_age=30))
    ids = [reader["id"], reader["card_number"], "PROV"]

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(operation=st.sampled_from(operations),
           path_value=st.one_of(st.sampled_from(ids + NASTY), st.text(max_size=20)),
           query=st.dictionaries(st.sampled_from(["q", "limit", "offset", "cursor", "status",
                                                  "library", "state", "after", "kind"]),
                                 st.one_of(st.sampled_from(NASTY), st.text(max_size=20)),
                                 max_size=3),
           body=st.one_of(JSON, st.builds(
               lambda field, value: {**valid, field: value},
               st.sampled_from(sorted(valid)), JSON)))
    def check(operation: tuple[str, str], path_value: str, query: dict[str, str],
              body: Any) -> None:
        template, method = operation
        path = re.sub(r"\{[^}]+\}", quote(path_value, safe=""), template)
        answer = api.client.open(path, method=method.upper(), query_string=query,
                                 json=body if method in ("post", "patch", "put") else None,
                                 headers={"Authorization": f"Bearer {api.token}"})
        assert answer.status_code < 500, (method, path, answer.get_data()[:300])
        if answer.status_code >= 400:
            assert answer.mimetype == "application/problem+json", (path, answer.get_data()[:200])
            assert answer.json["status"] == answer.status_code and answer.json["title"]

    check()


def test_values_the_database_cannot_take_are_refused(api):
    assert api.get("/api/duplicates/99999999999999999999").status_code == 404
    assert api.post("/api/merges/99999999999999999999/undo").status_code == 404
    for after in ("0.5,99999999999999999999", "nan,1", "inf,1", "0.5,١٢", "0.5", "x,1"):
        answer = api.get("/api/duplicates", query_string={"after": after})
        assert answer.status_code == 422 and answer.json["field"] == "after", after
    nul = api.get("/api/readers", query_string={"q": "\x00"})
    assert nul.status_code in (200, 400), nul.get_data()[:300]  # SQLite stores NUL in text
    if nul.status_code == 400:
        assert nul.json["code"] == "invalid_value"
