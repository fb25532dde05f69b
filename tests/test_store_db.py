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
