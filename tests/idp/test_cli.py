"""The ``readerpass`` command: tables for people, JSON lines for scripts, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from idp.cli import cli
from idp.config_file import render_config

ROOT = Path(__file__).resolve().parents[2]


class Cmd:
    def __init__(self, config: Path):
        self.config = config

    def __call__(self, *args: str, input: str | None = None, code: int | None = 0) -> Any:
        """Run the command; ``code`` is the exit status it must end with (None: any)."""
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args], input=input,
                                    catch_exceptions=False)
        assert code is None or result.exit_code == code, (args, result.output)
        return result

    def json_lines(self, *args: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self(*args, "--json").stdout.splitlines()]


@pytest.fixture
def cmd(database_url: str, tmp_path: Path) -> Cmd:
    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    run = Cmd(config)
    run("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
    return run


def _add(cmd: Cmd, person: Any, *extra: str) -> dict[str, Any]:
    result = cmd("readers", "add", "--family-name", person.family_name, "--given-name",
                 person.given_name, "--document-number", person.resident_id, "--mobile",
                 person.mobile, "--home-library", "CITY", "--json", *extra)
    return json.loads(result.stdout)


def test_libraries_load_list_show_add(cmd: Cmd):
    rows = cmd.json_lines("libraries", "list")
    assert [r["code"] for r in rows] == ["CITY", "PROV", "UNIV"]
    again = cmd("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
    assert "added 0, already present 3" in again.stdout
    cmd("libraries", "add", "town", "Town Library", "--kind", "public")
    assert cmd.json_lines("libraries", "show", "TOWN")[0]["name"] == "Town Library"
    table = cmd("libraries", "list").stdout.splitlines()
    assert table[0].split() == ["code", "name", "kind", "created_at"] and len(table) == 5
    dup = cmd("libraries", "add", "TOWN", "Again", code=1)
    assert "already exists" in dup.stderr and len(dup.stderr.strip().splitlines()) == 1
    assert "no member library" in cmd("libraries", "show", "NONE", code=1).stderr


def test_bad_registry_file_changes_nothing(cmd: Cmd, tmp_path: Path):
    bad = tmp_path / "libs.toml"
    bad.write_text('[[library]]\ncode = "NEW1"\nname = "ok"\n\n'
                   '[[library]]\ncode = "x y"\nname = "bad code"\n', encoding="utf-8")
    result = cmd("libraries", "load", str(bad), code=2)
    assert "entry 2" in result.stderr
    assert "NEW1" not in [r["code"] for r in cmd.json_lines("libraries", "list")]
    bad.write_text("[[library]\n", encoding="utf-8")
    assert "not valid TOML" in cmd("libraries", "load", str(bad), code=2).stderr


def test_readers_add_show_list_search(cmd: Cmd, people):
    person = people.reader(min_age=20)
    added = _add(cmd, person)
    assert added["home_library"] == "CITY" and added["category"] == "adult"
    assert cmd.json_lines("readers", "show", added["card_number"])[0]["id"] == added["id"]
    listed = cmd.json_lines("readers", "list", "--library", "CITY")
    assert [r["id"] for r in listed] == [added["id"]]
    for query in (person.resident_id, person.mobile, person.family_name):
        found = cmd.json_lines("readers", "search", query)
        assert added["id"] in [r["id"] for r in found], query
    table = cmd("readers", "list").stdout
    assert person.family_name in table and added["card_number"] in table
    shown = cmd("readers", "show", added["id"]).stdout
    assert person.resident_id not in shown and person.mobile not in shown


def test_readers_update_and_status(cmd: Cmd, people):
    added = _add(cmd, people.reader(min_age=20))
    updated = cmd.json_lines("readers", "update", added["id"], "--given-name", "新")[0]
    assert updated["given_name"] == "新"
    refused = cmd("readers", "status", added["id"], "suspended", code=2)
    assert "reason" in refused.stderr
    done = cmd("readers", "status", added["id"], "suspended", "--reason", "unpaid fines")
    assert "suspended" in done.stdout
    assert cmd.json_lines("readers", "list", "--status", "suspended")[0]["id"] == added["id"]


def test_password_from_stdin_is_hashed(cmd: Cmd, people):
    person = people.reader(min_age=20)
    result = cmd("readers", "add", "--family-name", person.family_name, "--given-name",
                 person.given_name, "--document-number", person.resident_id, "--mobile",
                 person.mobile, "--home-library", "PROV", "--password-stdin",
                 input="correct horse battery\n")
    assert "correct horse" not in result.output


def test_bad_input_is_one_line_with_status_2_and_writes_nothing(cmd: Cmd, people):
    person = people.reader(min_age=20)
    wrong = person.resident_id[:-1] + ("1" if person.resident_id[-1] == "0" else "0")
    cases = [
        (["--document-number", wrong], "check digit"),
        (["--document-number", person.resident_id, "--home-library", "NOPE"], "NOPE"),
        (["--document-number", person.resident_id, "--mobile", "12"], "mobile"),
        (["--document-number", person.resident_id, "--birth-date", "1990-02-30"], "birth_date"),
    ]
    for args, words in cases:
        base = {"--family-name": person.family_name, "--given-name": person.given_name,
                "--mobile": person.mobile, "--home-library": "PROV"}
        for flag, value in zip(args[::2], args[1::2], strict=True):
            base[flag] = value
        flat = [item for pair in base.items() for item in pair]
        result = cmd("readers", "add", *flat, code=2)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, result.stderr)
        assert person.resident_id not in result.stderr
    assert cmd.json_lines("readers", "list") == []


def test_values_the_database_refuses_are_bad_input(cmd: Cmd):
    for args in (["readers", "show", "x\x00y"], ["clients", "show", "\x00"],
                 ["libraries", "offline", "A\x00", "--reason", "test"]):
        result = cmd(*args, code=None)
        assert result.exit_code in (1, 2), (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def test_duplicate_document_exits_1(cmd: Cmd, people):
    person = people.reader(min_age=20)
    _add(cmd, person)
    result = cmd("readers", "add", "--family-name", "李", "--given-name", "四",
                 "--document-number", person.resident_id, "--mobile", person.mobile,
                 "--home-library", "PROV", code=1)
    assert "already registered" in result.stderr


def test_tokens_create_list_revoke(cmd: Cmd):
    secret = cmd("tokens", "create", "alice", "--role", "staff").stdout.strip()
    assert secret.startswith("rpst_") and len(secret) > 40
    assert cmd.json_lines("tokens", "list") == [
        {"name": "alice", "role": "staff", "library": None, "created_at": cmd.json_lines(
            "tokens", "list")[0]["created_at"]}]
    cmd("tokens", "create", "bob", "--role", "staff", "--library", "city")
    assert cmd.json_lines("tokens", "list")[1]["library"] == "CITY"
    assert "only staff" in cmd("tokens", "create", "carol", "--library", "CITY",
                               code=2).stderr
    assert "no member library" in cmd("tokens", "create", "dave", "--role", "staff",
                                      "--library", "NOPE", code=2).stderr
    cmd("tokens", "revoke", "bob")
    assert secret not in cmd("tokens", "list").stdout
    cmd("tokens", "revoke", "alice")
    assert cmd.json_lines("tokens", "list") == []
    assert "no token" in cmd("tokens", "revoke", "alice", code=1).stderr
    assert cmd("tokens", "create", "Bad Name", code=2).stderr


def test_db_current_and_upgrade(cmd: Cmd):
    lines = dict(line.split() for line in cmd("db", "current").stdout.splitlines())
    assert lines["current"] == lines["head"] and lines["head"].isdigit()
    assert "database at revision" in cmd("db", "upgrade").stdout


def test_config_init_and_check(tmp_path: Path):
    target = tmp_path / "new.toml"
    runner = CliRunner()
    made = runner.invoke(cli, ["config", "init", str(target), "--province-code", "ZJ",
                               "--province-name", "Zhejiang"])
    assert made.exit_code == 0, made.output
    assert target.stat().st_mode & 0o777 == 0o600
    checked = runner.invoke(cli, ["--config", str(target), "config", "check"])
    assert checked.exit_code == 0 and "ZJ" in checked.stdout
    assert "secret" not in checked.stdout.lower()
    again = runner.invoke(cli, ["config", "init", str(target), "--province-code", "ZJ",
                                "--province-name", "Zhejiang"])
    assert again.exit_code == 1 and "--force" in again.stderr


def test_commands_refuse_an_old_schema(tmp_path: Path):
    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="T"), encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli, ["--config", str(config), "readers", "list"])
    assert refused.exit_code == 1 and "readerpass db upgrade" in refused.stderr
    assert runner.invoke(cli, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["--config", str(config), "readers", "list"]).exit_code == 0


def test_every_command_has_help():
    runner = CliRunner()

    def walk(group: Any, path: list[str]) -> None:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.stdout, path
        for name in getattr(group, "commands", {}):
            walk(group.commands[name], [*path, name])

    walk(cli, [])
