"""Versioned schema migrations; PRAGMA user_version holds how many have run.

Append new migrations at the end; never edit one that has shipped.
"""

MIGRATIONS: list[str] = [
    # 1: users, the anonymous funnel, bot metadata.
    """
    CREATE TABLE users (
        user_key      TEXT PRIMARY KEY,
        platform      TEXT NOT NULL,
        guide_version TEXT NOT NULL,
        node          TEXT NOT NULL,
        step          INTEGER NOT NULL,
        answers       TEXT NOT NULL,
        history       TEXT NOT NULL,
        pending       TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX users_updated_at ON users(updated_at);
    CREATE TABLE funnel (
        day      TEXT NOT NULL,
        platform TEXT NOT NULL,
        counter  TEXT NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (day, platform, counter)
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
]
