"""`readerpass duplicates scan|list|show|dismiss|rekey` through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idp.config_file import render_config
from idp.synthetic import IdentityGenerator

from ..test_cli import ROOT, Cmd
from .test_queue import traditional


@pytest.fixture
def cmd(database_url: str, tmp_path: Path) -> Cmd:
    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    run = Cmd(config)
    run("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
    return run


def _add(cmd: Cmd, family: str, given: str, *document: str, mobile: str) -> str:
    out = cmd("readers", "add", "--family-name", family, "--given-name", given, *document,
              "--mobile", mobile, "--home-library", "CITY", "--json")
    return str(json.loads(out.stdout)["id"])


def test_scan_list_show_dismiss(cmd: Cmd, people: IdentityGenerator):
    person = people.reader(min_age=30)
    first = _add(cmd, person.family_name, person.given_name, "--document-number",
                 person.resident_id, mobile=person.mobile)
    second = _add(cmd, traditional(person.family_name), traditional(person.given_name),
                  "--document-type", "passport", "--document-number", "E9876543",
                  "--document-country", "CHN", "--birth-date", person.birth_date.isoformat(),
                  "--sex", person.sex, mobile=person.mobile)
    for other in people.readers(5, min_age=18):
        _add(cmd, other.family_name, other.given_name, "--document-number", other.resident_id,
             mobile=other.mobile)
    scanned = cmd("duplicates", "scan")
    assert "7 readers" in scanned.stdout and "1 candidates" in scanned.stdout
    assert "readers: 7" in scanned.stderr  # progress goes to stderr
    [line] = cmd.json_lines("duplicates", "list")
    assert {line["reader_a"], line["reader_b"]} == {first, second}
    assert line["state"] == "open" and line["score"] > 0 and line["auto_merge"] is False
    shown = cmd("duplicates", "show", str(line["id"])).stdout
    assert "birth_date" in shown and "name" in shown and person.mobile not in shown
    cmd("duplicates", "dismiss", str(line["id"]), "--reason", "two people")
    assert cmd.json_lines("duplicates", "list") == []
    [dismissed] = cmd.json_lines("duplicates", "list", "--state", "dismissed")
    assert dismissed["id"] == line["id"]
    again = cmd("duplicates", "dismiss", str(line["id"]), code=1)
    assert "dismissed, not open" in again.output
    cmd("duplicates", "scan", "--library", "CITY")
    assert cmd.json_lines("duplicates", "list") == []
    assert "rebuilt the keys of 7 readers" in cmd("duplicates", "rekey").stdout


def test_bad_arguments_are_one_line_errors(cmd: Cmd):
    assert "no member library" in cmd("duplicates", "scan", "--library", "NOPE", code=2).output
    assert "--library or --new" in cmd("duplicates", "scan", "--library", "CITY", "--new",
                                       code=2).output
    assert "no candidate pair" in cmd("duplicates", "show", "42", code=1).output
