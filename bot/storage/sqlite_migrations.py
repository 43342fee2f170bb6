"""The SQLite backend's versioned schema migrations; PRAGMA user_version holds how many have run.

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
    # 3: per-user context and typed recipients. Users are keyed by (platform, user id, guide pack) and
    # keep the platform's language hint; every row from before packs existed belongs to the Claude
    # guide. Reminders and subscriptions name a typed recipient (platform, user or channel, id) and a
    # pack; `user_id` repeats the recipient id for users only, so that an erase finds every row about a
    # person (every table with a user_id column) and never a channel's. A server's announcement channel
    # is no longer a table of its own: its subscription rows carry the server as `scope`.
    """
    CREATE TABLE users3 (
        platform      TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        pack          TEXT NOT NULL,
        locale        TEXT,
        guide_version TEXT NOT NULL,
        node          TEXT NOT NULL,
        step          INTEGER NOT NULL,
        answers       TEXT NOT NULL,
        history       TEXT NOT NULL,
        pending       TEXT,
        rev           INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (platform, user_id, pack)
    );
    INSERT INTO users3 SELECT platform, substr(user_key, length(platform) + 2), 'claude', NULL, guide_version,
        node, step, answers, history, pending, rev, created_at, updated_at FROM users;
    DROP TABLE users;
    ALTER TABLE users3 RENAME TO users;

    CREATE TABLE reminders3 (
        id             INTEGER PRIMARY KEY,
        platform       TEXT NOT NULL,
        recipient_kind TEXT NOT NULL,
        recipient_id   TEXT NOT NULL,
        user_id        TEXT,
        pack           TEXT NOT NULL,
        scope          TEXT,
        kind           TEXT NOT NULL,
        about          TEXT NOT NULL,
        offset_s       INTEGER NOT NULL,
        due_at         TEXT NOT NULL,
        status         TEXT NOT NULL DEFAULT 'pending',
        attempts       INTEGER NOT NULL DEFAULT 0,
        owner          TEXT,
        lease_until    TEXT,
        UNIQUE (platform, recipient_kind, recipient_id, pack, kind, about, offset_s)
    );
    INSERT INTO reminders3 SELECT id, platform, 'user', substr(recipient, length(platform) + 2),
        substr(recipient, length(platform) + 2), 'claude', NULL, kind, about, offset_s, due_at, status, attempts,
        owner, lease_until FROM reminders WHERE user_key IS NOT NULL;
    INSERT INTO reminders3 SELECT r.id, r.platform, 'channel', c.channel_id, NULL, 'claude', c.guild_id, r.kind,
        r.about, r.offset_s, r.due_at, r.status, r.attempts, r.owner, r.lease_until
        FROM reminders r JOIN announce_channels c ON r.recipient = 'guild:' || c.guild_id WHERE r.user_key IS NULL;
    DROP TABLE reminders;
    ALTER TABLE reminders3 RENAME TO reminders;
    CREATE INDEX reminders_due ON reminders(status, due_at);
    CREATE INDEX reminders_user ON reminders(platform, user_id);
    CREATE INDEX reminders_scope ON reminders(platform, scope);

    CREATE TABLE reminder_subs3 (
        platform       TEXT NOT NULL,
        recipient_kind TEXT NOT NULL,
        recipient_id   TEXT NOT NULL,
        pack           TEXT NOT NULL,
        deadline_id    TEXT NOT NULL,
        user_id        TEXT,
        scope          TEXT,
        PRIMARY KEY (platform, recipient_kind, recipient_id, pack, deadline_id)
    ) WITHOUT ROWID;
    INSERT INTO reminder_subs3 SELECT substr(recipient, 1, instr(recipient, ':') - 1), 'user',
        substr(recipient, instr(recipient, ':') + 1), 'claude', deadline_id, substr(recipient, instr(recipient, ':') + 1),
        NULL FROM reminder_subs WHERE user_key IS NOT NULL;
    INSERT INTO reminder_subs3 SELECT 'discord', 'channel', c.channel_id, 'claude', s.deadline_id, NULL, c.guild_id
        FROM reminder_subs s JOIN announce_channels c ON s.recipient = 'guild:' || c.guild_id WHERE s.user_key IS NULL;
    DROP TABLE reminder_subs;
    ALTER TABLE reminder_subs3 RENAME TO reminder_subs;
    CREATE INDEX reminder_subs_user ON reminder_subs(platform, user_id);
    CREATE INDEX reminder_subs_scope ON reminder_subs(platform, scope);
    DROP TABLE announce_channels;
    """,
    # 4: leases, so that of several processes on one database only one runs a once-a-day job (the
    # retention sweep); times in the same UTC ISO form as everywhere, so they compare as text.
    """
    CREATE TABLE leases (
        name   TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until  TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 5: platform updates being handled (Telegram's update_id), so a retry that reaches another process
    # is not handled twice; rows are dropped after a while (bot/storage/base.py: claim_update).
    """
    CREATE TABLE seen_updates (
        platform  TEXT NOT NULL,
        update_id INTEGER NOT NULL,
        seen_at   TEXT NOT NULL,
        PRIMARY KEY (platform, update_id)
    ) WITHOUT ROWID;
    """,
    # 6: the language a person chose with /language, beside the platform's hint (locale). Kept on every
    # row of the person, so a choice made in one pack holds in all of them.
    """
    ALTER TABLE users ADD COLUMN language TEXT;
    """,
    # 7: the content watch's snapshot of each guide source's main text (bot/watch), one per pack and source;
    # a page's text, never a user's (hence main_text, not text).
    """
    CREATE TABLE source_snapshots (
        pack          TEXT NOT NULL,
        source_id     TEXT NOT NULL,
        url           TEXT NOT NULL,
        main_text     TEXT NOT NULL,
        fetched_at    TEXT NOT NULL,
        etag          TEXT,
        last_modified TEXT,
        PRIMARY KEY (pack, source_id)
    ) WITHOUT ROWID;
    """,
    # 8: the person beside their rows per pack: the pack they moved in last (where their commands go: one
    # read per step instead of one per pack) and the record of "Check all my assistants", which was a row
    # in the pseudo-pack "~check-all" and a "~tour" key in the packs' answers; a check under way starts afresh.
    """
    CREATE TABLE people (
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        last_pack  TEXT,
        check_all  TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, user_id)
    ) WITHOUT ROWID;
    DELETE FROM users WHERE pack = '~check-all';
    UPDATE users SET answers = json_remove(answers, '$."~tour"') WHERE json_extract(answers, '$."~tour"') IS NOT NULL;
    INSERT INTO people (platform, user_id, last_pack, updated_at)
        SELECT platform, user_id, pack, MAX(updated_at) FROM users GROUP BY platform, user_id;
    """,
    # 9: what a subscriber follows, in columns of its own: reminder_subs held it as made-up deadline ids,
    # "" for "every deadline, new ones too" and "!alerts@VERSION" for "the changes, VERSION seen".
    # reminder_subs keeps the real deadline ids a subscriber has been scheduled for.
    """
    CREATE TABLE reminder_follows (
        platform       TEXT NOT NULL,
        recipient_kind TEXT NOT NULL,
        recipient_id   TEXT NOT NULL,
        pack           TEXT NOT NULL,
        user_id        TEXT,
        scope          TEXT,
        deadlines      INTEGER NOT NULL DEFAULT 0,
        changes_seen   TEXT,
        PRIMARY KEY (platform, recipient_kind, recipient_id, pack)
    ) WITHOUT ROWID;
    CREATE INDEX reminder_follows_user ON reminder_follows(platform, user_id);
    CREATE INDEX reminder_follows_scope ON reminder_follows(platform, scope);
    INSERT INTO reminder_follows (platform, recipient_kind, recipient_id, pack, user_id, scope, deadlines, changes_seen)
        SELECT platform, recipient_kind, recipient_id, pack, MAX(user_id), MAX(scope),
               MAX(deadline_id = ''), MAX(CASE WHEN deadline_id LIKE '!alerts@%' THEN substr(deadline_id, 9) END)
        FROM reminder_subs WHERE deadline_id = '' OR deadline_id LIKE '!alerts@%'
        GROUP BY platform, recipient_kind, recipient_id, pack;
    DELETE FROM reminder_subs WHERE deadline_id = '' OR deadline_id LIKE '!alerts@%';
    """,
]
