"""Personal numbers are stored only encrypted; look-ups use keyed hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text

from idp.config_file import new_key
from idp.pii import DecryptionError, KeyedHasher, PiiCipher

from .conftest import registration


def _all_stored_text(url: str) -> str:
    """Every value of every table, as text (for PostgreSQL: what pg_dump would show)."""
    engine = create_engine(url)
    chunks = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(" ".join(str(value) for value in row))
    engine.dispose()
    return "\n".join(chunks)


def test_plain_identity_numbers_and_mobiles_are_not_in_the_database(api, people, ctx,
                                                                     database_url):
    person = people.reader(min_age=30, max_age=60)
    old = people.reader(min_age=30, max_age=60)
    number15 = people.resident_id_15(dt.date(1970, 1, 5), "M")
    assert api.post("/api/readers", registration(person)).status_code == 201
    assert api.post("/api/readers", registration(old, document_number=number15)).status_code == 201
    ctx.engine.dispose()
    secrets = [person.resident_id, person.mobile, person.mobile.removeprefix("+86"), number15,
               number15[:6] + "19" + number15[6:]]
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in secrets:
            assert secret.encode() not in raw
        # Sanity: the file does hold the reader, so the check above can fail.
        assert person.family_name.encode() in raw
    stored = _all_stored_text(database_url)
    for secret in secrets:
        assert secret not in stored
    assert person.family_name in stored


def test_cipher_round_trip_rotation_and_tamper_detection():
    old_key, new_key_ = ("k1", bytes(range(32))), ("k2", bytes(range(1, 33)))
    old = PiiCipher([old_key])
    stored = old.encrypt("110101199003077777", context="identity_document")
    rotated = PiiCipher([new_key_, old_key])
    assert rotated.decrypt(stored, context="identity_document") == "110101199003077777"
    assert rotated.needs_rotation(stored)
    assert not rotated.needs_rotation(rotated.encrypt("x", context="c"))
    with pytest.raises(DecryptionError):
        rotated.decrypt(stored, context="mobile")  # bound to its column
    kid, body = stored.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptionError):
        old.decrypt(f"{kid}.{flipped}", context="identity_document")
    with pytest.raises(DecryptionError):
        PiiCipher([new_key_]).decrypt(stored, context="identity_document")


def test_equal_plaintexts_encrypt_differently_but_hash_equally():
    cipher = PiiCipher([("k1", bytes(32))])
    a = cipher.encrypt("13800000000", context="mobile")
    b = cipher.encrypt("13800000000", context="mobile")
    assert a != b
    hasher = KeyedHasher(b"k" * 32)
    assert hasher.digest("mobile", "x") == hasher.digest("mobile", "x")
    assert hasher.digest("mobile", "x") != hasher.digest("identity-document", "x")
    assert hasher.digest("mobile", "x") != KeyedHasher(b"j" * 32).digest("mobile", "x")
    assert len(new_key()) >= 43


_HASHER = KeyedHasher(b"k" * 32)


@given(purpose=st.sampled_from(["mobile", "identity-document", "import-row", "x"]),
       value=st.text())
def test_a_keyed_hash_is_hmac_sha256_of_purpose_nul_value(purpose: str, value: str):
    # Stored hashes are matched against new ones: the definition must never drift,
    # whichever way it is computed, however often a purpose is used.
    expected = hmac.new(b"k" * 32, purpose.encode() + b"\x00" + value.encode(),
                        hashlib.sha256).hexdigest()
    assert _HASHER.digest(purpose, value) == expected
    assert _HASHER.digest(purpose, value) == expected


def test_rotation_re_encrypts_so_the_old_key_can_go(api, people, ctx, settings, clock):
    from idp.context import Context
    from idp.services.actor import Actor
    from idp.services.pii_rotation import rotate_pii

    readers = [api.post("/api/readers", registration(people.reader(min_age=20))).json
               for _ in range(3)]
    old = settings.security.pii_keys[0].get_secret_value()
    newer = f"k2:{new_key()}"
    rotated_settings = settings.model_copy(update={"security": settings.security.model_copy(
        update={"pii_keys": [type(settings.security.pii_keys[0])(v) for v in (newer, old)]})})
    both = Context.build(rotated_settings, clock=clock)
    report = rotate_pii(both, actor=Actor.cli(), batch_size=2)
    assert (report.documents, report.mobiles) == (3, 3)
    assert rotate_pii(both, actor=Actor.cli()).documents == 0  # nothing left to do
    both.dispose()
    only_new = Context.build(rotated_settings.model_copy(update={
        "security": rotated_settings.security.model_copy(
            update={"pii_keys": rotated_settings.security.pii_keys[:1]})}), clock=clock)
    from idp.services.lookup import find_reader
    from idp.services.readers import reader_view

    with only_new.sessions() as session:
        for reader in readers:
            view = reader_view(find_reader(session, reader["id"]), only_new)
            assert view["documents"][0]["number"] == reader["documents"][0]["number"]
            assert view["mobile"] == reader["mobile"]
    only_new.dispose()
