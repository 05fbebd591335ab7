"""`readerpass readers merge|unmerge|merges` end to end."""

from __future__ import annotations

import json

from ..test_cli import Cmd, cmd  # noqa: F401  (fixture)


def _add(cmd: Cmd, person, *extra: str) -> dict:  # noqa: F811
    result = cmd("readers", "add", "--family-name", person.family_name, "--given-name",
                 person.given_name, "--home-library", "CITY", "--json", *extra)
    return json.loads(result.stdout)


def test_merge_dry_run_merge_show_unmerge(cmd: Cmd, people):  # noqa: F811
    person = people.reader(min_age=30, max_age=50)
    first = _add(cmd, person, "--document-number", person.resident_id, "--mobile",
                 person.mobile)
    second = _add(cmd, person, "--document-type", "passport", "--document-number",
                  "E" + person.resident_id[-8:], "--document-country", "CHN", "--birth-date",
                  person.birth_date.isoformat(), "--mobile", people.reader().mobile)
    survivor, other = first["id"], second["id"]

    wrong = cmd("readers", "merge", other, survivor, code=1)
    assert f"reader {survivor} must be the survivor" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1

    dry = cmd("readers", "merge", survivor, other, "--dry-run")
    assert "becomes a tombstone" in dry.stdout and "passport CHN" in dry.stdout
    assert "birth_date" in dry.stdout and "attribute" in dry.stdout
    plan = json.loads(cmd("readers", "merge", survivor, other, "--dry-run", "--json").stdout)
    assert plan["other"]["id"] == other and plan["libraries"] == ["CITY"]
    assert cmd.json_lines("readers", "show", other)[0]["status"] == "active"

    done = cmd("readers", "merge", survivor, "--yes", second["card_number"], "--reason",
               "one person, two cards")
    assert f"merged {other} into {survivor}" in done.stdout
    tomb = cmd.json_lines("readers", "show", second["card_number"])[0]
    assert tomb["status"] == "merged" and tomb["merged_into"] == survivor
    assert cmd.json_lines("readers", "search", second["card_number"])[0]["id"] == survivor
    again = cmd("readers", "merge", survivor, other, code=1)
    assert "already merged" in again.stderr

    [row] = cmd.json_lines("readers", "merges", survivor)
    assert row["other_id"] == other and row["state"] == "applied"
    assert row["evidence"]["reason"] == "one person, two cards"
    restored = cmd("readers", "unmerge", str(row["id"]), "--reason", "twins")
    assert f"restored {other}" in restored.stdout
    assert cmd.json_lines("readers", "show", other)[0]["status"] == "active"
    assert "already undone" in cmd("readers", "unmerge", str(row["id"]), code=1).stderr
    assert "no merge" in cmd("readers", "unmerge", "999", code=1).stderr
