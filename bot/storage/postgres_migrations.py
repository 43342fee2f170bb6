"""The PostgreSQL backend's versioned schema migrations; the table schema_migrations holds which have run.

Append new migrations at the end; never edit one that has shipped. Each runs in one transaction with
its version row (PostgreSQL's DDL is transactional), under an advisory lock held by the migrating
instance, so two instances starting together never run one twice.
"""

MIGRATIONS: list[str] = [
    # 1: the schema SQLite reached at its version 3, in PostgreSQL's types: times are timestamptz,
    # answers and history stay compact JSON text (as written, key order kept, copied verbatim between
    # backends). `user_id` on reminders and subscriptions repeats the recipient id for users only, so an
    # erase finds every row about a person (every table with a user_id column) and never a channel's.
    # users has no index on updated_at on purpose: the retention sweep scans it once a day, while an
    # index would be rewritten on every step.
    """
    CREATE TABLE users (
        platform      text NOT NULL,
        user_id       text NOT NULL,
        pack          text NOT NULL,
        locale        text,
        guide_version text NOT NULL,
        node          text NOT NULL,
        step          integer NOT NULL,
        answers       text NOT NULL,
        history       text NOT NULL,
        pending       text,
        rev           integer NOT NULL,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        PRIMARY KEY (platform, user_id, pack)
    );
    -- A day's count of one counter is spread over a few rows (`stripe`, from the writing connection):
    -- every step adds to the funnel, and with one row per counter concurrent steps queued on its
    -- row lock (two instances: about 1,900 steps/s striped 2,900). Readers add the stripes up.
    CREATE TABLE funnel (
        day      date NOT NULL,
        platform text NOT NULL,
        counter  text NOT NULL,
        stripe   smallint NOT NULL,
        n        bigint NOT NULL,
        PRIMARY KEY (day, platform, counter, stripe)
    );
    CREATE TABLE meta (
        name  text PRIMARY KEY,
        value text NOT NULL
    );
    CREATE TABLE reminders (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        platform       text NOT NULL,
        recipient_kind text NOT NULL,
        recipient_id   text NOT NULL,
        user_id        text,
        pack           text NOT NULL,
        scope          text,
        kind           text NOT NULL,
        about          text NOT NULL,
        offset_s       integer NOT NULL,
        due_at         timestamptz NOT NULL,
        status         text NOT NULL DEFAULT 'pending',
        attempts       integer NOT NULL DEFAULT 0,
        owner          text,
        lease_until    timestamptz,
        UNIQUE (platform, recipient_kind, recipient_id, pack, kind, about, offset_s)
    );
    -- Claims look only at pending rows by due time and in-flight rows by lease; sent rows pile up
    -- and stay out of both indexes.
    CREATE INDEX reminders_pending ON reminders (pack, due_at) WHERE status = 'pending';
    CREATE INDEX reminders_sending ON reminders (pack, lease_until) WHERE status = 'sending';
    CREATE INDEX reminders_user ON reminders (platform, user_id);
    CREATE INDEX reminders_scope ON reminders (platform, scope);
    CREATE TABLE reminder_subs (
        platform       text NOT NULL,
        recipient_kind text NOT NULL,
        recipient_id   text NOT NULL,
        pack           text NOT NULL,
        deadline_id    text NOT NULL,
        user_id        text,
        scope          text,
        PRIMARY KEY (platform, recipient_kind, recipient_id, pack, deadline_id)
    );
    CREATE INDEX reminder_subs_user ON reminder_subs (platform, user_id);
    CREATE INDEX reminder_subs_scope ON reminder_subs (platform, scope);
    """,
    # 2: leases, so that of several instances only one runs a once-a-day job (the retention sweep).
    """
    CREATE TABLE leases (
        name   text PRIMARY KEY,
        holder text NOT NULL,
        until  timestamptz NOT NULL
    );
    """,
    # 3: platform updates being handled (Telegram's update_id), so a retry that reaches another instance
    # is not handled twice; rows are dropped after a while (bot/storage/base.py: claim_update).
    """
    CREATE TABLE seen_updates (
        platform  text NOT NULL,
        update_id bigint NOT NULL,
        seen_at   timestamptz NOT NULL,
        PRIMARY KEY (platform, update_id)
    );
    """,
    # 4: the language a person chose with /language, beside the platform's hint (locale). Kept on every
    # row of the person, so a choice made in one pack holds in all of them.
    """
    ALTER TABLE users ADD COLUMN language text;
    """,
    # 5: instances sharing one platform budget (Telegram's 30 messages a second belong to the bot, not to
    # each process): each heartbeats its row, and takes budget / the number of rows still alive.
    """
    CREATE TABLE budget_members (
        pool        text NOT NULL,
        member      text NOT NULL,
        alive_until timestamptz NOT NULL,
        PRIMARY KEY (pool, member)
    );
    """,
    # 6: the content watch's snapshot of each guide source's main text (bot/watch), one per pack and source;
    # a page's text, never a user's (hence main_text, not text).
    """
    CREATE TABLE source_snapshots (
        pack          text NOT NULL,
        source_id     text NOT NULL,
        url           text NOT NULL,
        main_text     text NOT NULL,
        fetched_at    timestamptz NOT NULL,
        etag          text,
        last_modified text,
        PRIMARY KEY (pack, source_id)
    );
    """,
    # 7: the person beside their rows per pack: the pack they moved in last (where their commands go: one
    # read per step instead of one per pack) and the record of "Check all my assistants", which was a row
    # in the pseudo-pack "~check-all" and a "~tour" key in the packs' answers; a check under way starts afresh.
    """
    CREATE TABLE people (
        platform   text NOT NULL,
        user_id    text NOT NULL,
        last_pack  text,
        check_all  text,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (platform, user_id)
    );
    DELETE FROM users WHERE pack = '~check-all';
    UPDATE users SET answers = (answers::jsonb - '~tour')::text WHERE answers::jsonb ? '~tour';
    INSERT INTO people (platform, user_id, last_pack, updated_at)
        SELECT DISTINCT ON (platform, user_id) platform, user_id, pack, updated_at FROM users
        ORDER BY platform, user_id, updated_at DESC;
    """,
    # 8: what a subscriber follows, in columns of its own: reminder_subs held it as made-up deadline ids,
    # "" for "every deadline, new ones too" and "!alerts@VERSION" for "the changes, VERSION seen".
    # reminder_subs keeps the real deadline ids a subscriber has been scheduled for.
    """
    CREATE TABLE reminder_follows (
        platform       text NOT NULL,
        recipient_kind text NOT NULL,
        recipient_id   text NOT NULL,
        pack           text NOT NULL,
        user_id        text,
        scope          text,
        deadlines      boolean NOT NULL DEFAULT false,
        changes_seen   text,
        PRIMARY KEY (platform, recipient_kind, recipient_id, pack)
    );
    CREATE INDEX reminder_follows_user ON reminder_follows (platform, user_id);
    CREATE INDEX reminder_follows_scope ON reminder_follows (platform, scope);
    INSERT INTO reminder_follows (platform, recipient_kind, recipient_id, pack, user_id, scope, deadlines, changes_seen)
        SELECT platform, recipient_kind, recipient_id, pack, max(user_id), max(scope), bool_or(deadline_id = ''),
               max(CASE WHEN deadline_id LIKE '!alerts@%' THEN substr(deadline_id, 9) END)
        FROM reminder_subs WHERE deadline_id = '' OR deadline_id LIKE '!alerts@%'
        GROUP BY platform, recipient_kind, recipient_id, pack;
    DELETE FROM reminder_subs WHERE deadline_id = '' OR deadline_id LIKE '!alerts@%';
    """,
]
