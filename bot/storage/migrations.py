"""Versioned schema migrations; PRAGMA user_version holds how many have run.

Append new migrations at the end; never edit one that has shipped.
"""

MIGRATIONS: list[str] = [
    # 1: users, the anonymous funnel, bot metadata. users has no index on updated_at on purpose: the
    # retention sweep scans it once a day, while an index would be rewritten on every step.
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
        rev           INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
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
    # 2: reminders (bot/storage/reminders.py). `recipient` is the user key (`telegram:123`) or
    # `guild:ID` for a Discord server's announcement channel; `user_key` repeats it for users only,
    # so that forget_user / delete_inactive erase a user's rows and never a server's.
    """
    CREATE TABLE reminders (
        id          INTEGER PRIMARY KEY,
        recipient   TEXT NOT NULL,
        user_key    TEXT,
        platform    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        about       TEXT NOT NULL,
        offset_s    INTEGER NOT NULL,
        due_at      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'pending',
        attempts    INTEGER NOT NULL DEFAULT 0,
        owner       TEXT,
        lease_until TEXT,
        UNIQUE (recipient, kind, about, offset_s)
    );
    CREATE INDEX reminders_due ON reminders(status, due_at);
    CREATE INDEX reminders_user ON reminders(user_key);
    CREATE TABLE reminder_subs (
        recipient   TEXT NOT NULL,
        deadline_id TEXT NOT NULL,
        user_key    TEXT,
        PRIMARY KEY (recipient, deadline_id)
    ) WITHOUT ROWID;
    CREATE INDEX reminder_subs_user ON reminder_subs(user_key);
    CREATE TABLE announce_channels (
        guild_id   TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
]
