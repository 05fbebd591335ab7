"""Settings: TOML plus environment overrides, validated with one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from idp.config_file import new_key, render_config
from idp.settings import SettingsError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readerpass.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return _write(tmp_path, render_config(province_code="ZJ", province_name="Test"))


def test_generated_file_is_valid_and_paths_are_relative_to_it(good: Path):
    settings = load_settings(good, environ={})
    assert settings.province.code == "ZJ"
    assert Path(settings.instance_dir) == good.parent.resolve()
    assert settings.database_url == f"sqlite:///{good.parent.resolve() / 'readerpass.db'}"


def test_environment_overrides_the_file(good: Path):
    env = {"READERPASS_DATABASE_URL": "postgresql+psycopg://x@h/db",
           "READERPASS_SERVER_WORKERS": "7",
           "READERPASS_SECURITY_PII_KEYS": f"k2:{new_key()}, k1:{new_key()}"}
    settings = load_settings(good, environ=env)
    assert settings.database_url == "postgresql+psycopg://x@h/db"
    assert settings.server.workers == 7
    assert [kid for kid, _ in settings.security.pii_keyring()] == ["k2", "k1"]


@pytest.mark.parametrize(("edit", "expected"), [
    (("[province]\ncode = 'ZJ'\n", "[province]\ncode = 'zj'\n"), "province.code:"),
    (("name = 'Test'\n", ""), "province.name: is required but missing"),
    (("[server]\n", "[server]\nworkers = 0\n"), "server.workers:"),
    (("[server]\n", "[server]\nport = 1\n"), "server.port: is not a known setting"),
    (("[province]\n", "[province]\ntimezone = 'Mars/Base'\n"), "unknown time zone"),
    (("[province]\n", "[province]\nphone_region = 'QQ'\n"), "province.phone_region"),
])
def test_bad_values_name_the_key(tmp_path: Path, edit: tuple[str, str], expected: str):
    text = render_config(province_code="ZJ", province_name="Test").replace(*edit)
    with pytest.raises(SettingsError) as info:
        load_settings(_write(tmp_path, text), environ={})
    message = str(info.value)
    assert expected in message and "\n" not in message


def test_bad_environment_value_names_the_variable(good: Path):
    with pytest.raises(SettingsError) as info:
        load_settings(good, environ={"READERPASS_SECURITY_HASH_KEY": "c2hvcnQ="})
    assert "security.hash_key" in str(info.value)
    assert "READERPASS_SECURITY_HASH_KEY" in str(info.value)


def test_example_file_is_complete_but_its_placeholders_are_refused():
    example = ROOT / "config" / "readerpass.example.toml"
    with pytest.raises(SettingsError, match="placeholder"):
        load_settings(example, environ={})
    env = {"READERPASS_SECURITY_SECRET_KEY": new_key(48),
           "READERPASS_SECURITY_PII_KEYS": f"k1:{new_key()}",
           "READERPASS_SECURITY_HASH_KEY": new_key()}
    settings = load_settings(example, environ=env)
    assert settings.province.code == "ZJ"


def test_pii_keys_must_be_well_formed():
    base = {"province": {"code": "ZJ", "name": "x"},
            "security": {"secret_key": "x" * 40, "hash_key": new_key()}}
    for keys, words in ((["nokid"], "KEYID"), ([f"a:{new_key(16)}"], "32 bytes"),
                        ([f"a:{new_key()}", f"a:{new_key()}"], "twice"), ([], "at least 1")):
        data = {**base, "security": {**base["security"], "pii_keys": keys}}
        with pytest.raises(SettingsError, match=words):
            parse_settings(data, environ={})


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[province\n"), environ={})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(SettingsError, match="--config"):
            load_settings(None, environ={})
    finally:
        os.chdir(cwd)


def test_cli_stops_with_one_line_naming_the_key(tmp_path: Path):
    # The rendered file ends inside its [server] table.
    path = _write(tmp_path, render_config(province_code="ZJ", province_name="T")
                  + "workers = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "idp", "--config", str(path), "readers", "list"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "config error: server.workers:" in lines[0]
