"""The SQLite base: what execute returns, transactions roll back, schemas apply once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.db import Database


def test_execute_returns_row_id_for_inserts_and_row_count_otherwise(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.sqlite3")
    db.ensure_schema("t", "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT);")
    first = db.execute("INSERT INTO t (v) VALUES (?)", ("a",))
    second = db.execute("INSERT INTO t (v) VALUES (?)", ("b",))
    assert (first, second) == (1, 2)
    assert db.execute("DELETE FROM t WHERE v = ?", ("zzz",)) == 0  # not the stale lastrowid 2
    assert db.execute("UPDATE t SET v = 'c'") == 2


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.sqlite3")
    db.ensure_schema("t", "CREATE TABLE IF NOT EXISTS t (v TEXT UNIQUE);")
    with pytest.raises(Exception):
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES ('x')")
            conn.execute("INSERT INTO t VALUES ('x')")
    assert db.query("SELECT COUNT(*) AS n FROM t")[0]["n"] == 0
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"


def test_a_damaged_database_file_is_named_with_the_way_out(tmp_path, monkeypatch, capsys) -> None:
    """A corrupt application database at start: a message naming the file and the recovery step, no traceback."""
    from bot.cli import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "salescoach.sqlite3").write_bytes(b"this is not a database" * 200)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(data))
    assert main(["tip", "--user", "7"]) == 2
    err = capsys.readouterr().err
    assert "salescoach.sqlite3" in err and "备份" in err and "Traceback" not in err
