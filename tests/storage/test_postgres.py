"""What only the PostgreSQL backend does: its migrations, several instances on one database, a URL whose
password never leaks. Runs against a throwaway server (tests/postgres_server.py); skips without one."""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import replace
from datetime import date, timedelta

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Notice, Press, Recipient, Start, UserKey
from bot.guide import load_guide
from bot.storage import StaleStateError, StorageError, open_backend
from bot.storage.base import Following, NewReminder, Subscriber, newer_schema
from bot.storage.postgres import PostgresStorage
from bot.storage.postgres_migrations import MIGRATIONS
from tests.conftest import AFTER, MINI_GUIDE
from tests.postgres_server import PostgresServer
from tests.storage.conftest import T0, state

ALICE = UserKey("telegram", "1")
EVER = (date(2000, 1, 1), date(2100, 1, 1))


async def _version(url: str) -> int:
    con = await asyncpg.connect(url)
    try:
        return await con.fetchval("SELECT max(version) FROM schema_migrations")
    finally:
        await con.close()


async def _open_two(url: str) -> tuple[PostgresStorage, PostgresStorage]:
    one, two = await open_backend(url), await open_backend(url)
    assert isinstance(one, PostgresStorage) and isinstance(two, PostgresStorage)
    return one, two


# Migrations ------------------------------------------------------------------------------------------
async def test_a_new_database_gets_every_migration_once(postgres_url: str) -> None:
    for expected_rev in (1, 2):  # a migration run twice would fail on CREATE TABLE
        store = await open_backend(postgres_url)
        saved = await store.get_user(ALICE, "claude") or state()
        await store.save_step(saved)
        assert saved.rev == expected_rev
        await store.close()
    assert await _version(postgres_url) == len(MIGRATIONS)


async def test_migrating_from_schema_3_keeps_the_rows_and_adds_the_chosen_language(postgres_url: str) -> None:
    # 3 is the schema just before the language column (4).
    con = await asyncpg.connect(postgres_url)
    try:
        await con.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())")
        for version, script in enumerate(MIGRATIONS[:3], start=1):
            await con.execute(script)
            await con.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        await con.execute(
            "INSERT INTO users (platform, user_id, pack, locale, guide_version, node, step, answers, history, rev,"
            " created_at, updated_at) VALUES ('telegram', '1', 'claude', 'de', 'v1', 'plan', 3, '{}', '[]', 2, $1, $1)",
            T0)
    finally:
        await con.close()
    store = await open_backend(postgres_url)
    try:
        got = await store.get_user(ALICE, "claude")
        assert (got.node, got.locale, got.language, got.rev) == ("plan", "de", None, 2)
        got.language = "es"
        await store.save_step(got)
        assert await store.get_language(ALICE) == "es"
    finally:
        await store.close()
    assert await _version(postgres_url) == len(MIGRATIONS)


def _before(created: str) -> int:
    """The schema version just before the migration that creates ``created``."""
    return next(i for i, script in enumerate(MIGRATIONS) if f"CREATE TABLE {created} " in script)


async def test_migrating_to_people_points_each_person_at_their_latest_pack_and_drops_the_old_check(
        postgres_url: str) -> None:
    # Before the people table "Check all my assistants" was the pseudo-pack "~check-all" and a "~tour" key
    # in the packs' answers.
    con = await asyncpg.connect(postgres_url)
    try:
        await con.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())")
        for version, script in enumerate(MIGRATIONS[:_before("people")], start=1):
            await con.execute(script)
            await con.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        row = ("INSERT INTO users (platform, user_id, pack, guide_version, node, step, answers, history, rev,"
               " created_at, updated_at) VALUES ('telegram', '1', $1, 'v1', 'plan', 3, $2, '[]', 2, $3, $3)")
        await con.execute(row, "claude", '{"plan":"pro","~tour":"on"}', T0)
        await con.execute(row, "chatgpt", '{"~tour":"last"}', T0 + timedelta(minutes=5))
        await con.execute(row, "~check-all", '{"chosen":"claude,chatgpt"}', T0)
    finally:
        await con.close()
    store = await open_backend(postgres_url)
    try:
        person, latest = await store.load(ALICE, None)
        assert (person.last_pack, person.check_all, latest.pack, latest.answers) == ("chatgpt", None, "chatgpt", {})
        assert (await store.get_user(ALICE, "claude")).answers == {"plan": "pro"}
        assert await store.get_user(ALICE, "~check-all") is None
    finally:
        await store.close()
    assert await _version(postgres_url) == len(MIGRATIONS)


async def test_migrating_to_reminder_follows_turns_the_made_up_deadline_ids_into_columns(postgres_url: str) -> None:
    # Before reminder_follows "" meant "every deadline" and "!alerts@V" "the changes, V seen".
    con = await asyncpg.connect(postgres_url)
    try:
        await con.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())")
        for version, script in enumerate(MIGRATIONS[:_before("reminder_follows")], start=1):
            await con.execute(script)
            await con.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        for pack, deadline_id in (("claude", ""), ("claude", "final"), ("claude", "!alerts@2026.11.3")):
            await con.execute("INSERT INTO reminder_subs VALUES ('telegram', 'user', '1', $1, $2, '1', NULL)",
                              pack, deadline_id)
    finally:
        await con.close()
    store = await open_backend(postgres_url)
    try:
        assert await store.subscriptions("claude") == {
            Subscriber(Recipient("telegram", "user", "1"), "claude"): Following(True, "2026.11.3", frozenset({"final"}))}
    finally:
        await store.close()
    assert await _version(postgres_url) == len(MIGRATIONS)


async def test_instances_starting_together_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(open_backend(postgres_url) for _ in range(4)))
    try:
        await stores[0].save_step(state())
        assert (await stores[3].get_user(ALICE, "claude")).node == "plan"
    finally:
        for store in stores:
            await store.close()
    con = await asyncpg.connect(postgres_url)
    try:
        assert await con.fetchval("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        await con.close()


async def test_a_newer_schema_is_refused_with_the_same_line_as_sqlite(postgres_url: str) -> None:
    await (await open_backend(postgres_url)).close()
    con = await asyncpg.connect(postgres_url)
    try:
        await con.execute("INSERT INTO schema_migrations (version) VALUES ($1)", len(MIGRATIONS) + 5)
    finally:
        await con.close()
    with pytest.raises(StorageError) as caught:
        await open_backend(postgres_url)
    assert str(caught.value) == str(newer_schema(len(MIGRATIONS) + 5, len(MIGRATIONS)))
    assert "\n" not in str(caught.value)


async def test_a_read_only_open_lays_out_no_schema(postgres_url: str) -> None:
    with pytest.raises(StorageError, match=r"DATABASE_URL: no bot schema in optout_test@127\.0\.0\.1:"):
        await open_backend(postgres_url, create=False)
    con = await asyncpg.connect(postgres_url)
    try:
        assert await con.fetchval("SELECT to_regclass('schema_migrations')") is None
    finally:
        await con.close()


async def test_no_message_text_column_exists(postgres_url: str) -> None:
    await (await open_backend(postgres_url)).close()
    con = await asyncpg.connect(postgres_url)
    try:
        columns = {c for (c,) in await con.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'")}
        types = {t for (t,) in await con.fetch(
            "SELECT data_type FROM information_schema.columns WHERE column_name IN ('due_at', 'updated_at')")}
    finally:
        await con.close()
    assert not columns & {"text", "message", "message_text", "content", "username", "first_name"}
    assert types == {"timestamp with time zone"}


async def test_times_come_back_as_the_same_instant_in_utc(postgres_url: str) -> None:
    store = await open_backend(postgres_url)
    try:
        local = T0.astimezone()
        await store.save_step(state(at=local))
        got = await store.get_user(ALICE, "claude")
        assert got.updated_at == T0 and got.updated_at.utcoffset() == timedelta(0)
    finally:
        await store.close()


# The password ------------------------------------------------------------------------------------------
def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.mark.parametrize("where", ["wrong password", "unreachable port", "missing database"])
async def test_a_failed_connection_is_one_line_without_the_password(
        where: str, postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-Pa55w0rd!"
    port, db = postgres_server.port, "postgres"
    if where == "unreachable port":
        port = 1
        secret = postgres_server.password
    elif where == "missing database":
        db, secret = "no_such_db", postgres_server.password
    url = f"postgresql://optout_test:{secret}@127.0.0.1:{port}/{db}"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageError) as caught:
        await open_backend(url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: ") and "\n" not in message
    assert f"optout_test@127.0.0.1:{port}/{db}" in message  # says which server, so the operator can fix it
    says = {"wrong password": "refused the login", "unreachable port": "cannot reach PostgreSQL",
            "missing database": "no database"}[where]
    assert says in message
    assert secret not in _all_text(caught.value)
    assert not [r for r in caplog.records if secret in r.getMessage() or secret in str(r.args)]


async def test_a_failure_after_opening_is_one_line_without_the_password(
        postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    password = postgres_url.split(":")[2].split("@")[0]
    store = await open_backend(postgres_url)
    admin, blocker = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    try:
        # An operator's transaction holds the row the bot wants to write, so the bot's call is in flight ...
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("INSERT INTO meta (name, value) VALUES ('x', '1')")
        call = asyncio.create_task(store.set_meta("x", "2"))
        waiting = "SELECT pid FROM pg_stat_activity WHERE application_name = 'optout-bot' AND wait_event_type = 'Lock'"
        for _ in range(200):
            if await admin.fetch(waiting):
                break
            await asyncio.sleep(0.02)
        # ... when the server ends the bot's sessions (a restart, a failover, an operator).
        await admin.execute(waiting.replace("SELECT pid", "SELECT pg_terminate_backend(pid)"))
        with pytest.raises(StorageError) as caught:
            await call
        assert str(caught.value).startswith("DATABASE_URL: lost the connection") and "\n" not in str(caught.value)
        assert password not in _all_text(caught.value)
        await blocking.rollback()
        assert await store.ping()  # the pool opens a new connection
        await store.set_meta("x", "3")
        assert await store.get_meta("x") == "3"
    finally:
        await admin.close()
        await blocker.close()
        await store.close()
    assert not [r for r in caplog.records if password in r.getMessage()]


async def test_postgres_and_postgresql_urls_both_work(postgres_url: str) -> None:
    store = await open_backend(postgres_url.replace("postgresql://", "postgres://", 1))
    try:
        assert isinstance(store, PostgresStorage) and await store.ping()
    finally:
        await store.close()


# Two instances on one database ----------------------------------------------------------------------
async def test_forget_on_one_instance_is_final_for_the_other(postgres_url: str) -> None:
    one, two = await _open_two(postgres_url)
    try:
        await one.save_step(state())
        await one.subscribe(Subscriber(Recipient("telegram", "user", "1"), "claude"), ["final"],
                            [NewReminder(Recipient("telegram", "user", "1"), "claude", "deadline", "final", 1, T0)])
        mine = await one.get_user(ALICE, "claude")
        await two.forget_user(ALICE)
        mine.answers["code"] = "yes"
        with pytest.raises(StaleStateError):
            await one.save_step(mine, ("got_steps",))
        assert await one.get_user(ALICE, "claude") is None
        assert await one.pending(Recipient("telegram", "user", "1"), "claude") == []
        assert await one.subscriptions("claude") == {}
        assert await one.funnel(*EVER) == {}
    finally:
        await one.close()
        await two.close()


async def test_concurrent_saves_of_one_revision_let_exactly_one_win(postgres_url: str) -> None:
    one, two = await _open_two(postgres_url)
    users = [str(i) for i in range(40)]
    try:
        for uid in users:
            await one.save_step(state(uid))

        async def save(store: PostgresStorage, uid: str, node: str) -> str | None:
            mine = replace(state(uid, node=node), rev=1)
            try:
                await store.save_step(mine, ("reached:" + node,))
            except StaleStateError:
                return None
            return node

        results = await asyncio.gather(*(
            save(store, uid, node) for uid in users for store, node in ((one, "code"), (two, "result"))))
        for i, uid in enumerate(users):
            winners = [r for r in results[2 * i: 2 * i + 2] if r is not None]
            assert len(winners) == 1
            got = await two.get_user(UserKey("telegram", uid), "claude")
            assert (got.node, got.rev) == (winners[0], 2)
        funnel = await one.funnel(*EVER)
        assert funnel.get(("telegram", "reached:code"), 0) + funnel.get(("telegram", "reached:result"), 0) == 40
    finally:
        await one.close()
        await two.close()


async def test_concurrent_first_saves_create_one_row(postgres_url: str) -> None:
    one, two = await _open_two(postgres_url)
    try:
        outcomes = await asyncio.gather(one.save_step(state(node="home"), ("started",)),
                                        two.save_step(state(node="plan"), ("started",)), return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "StaleStateError"]
        assert await one.funnel(*EVER) == {("telegram", "started"): 1}
    finally:
        await one.close()
        await two.close()


async def test_one_press_reaching_two_instances_makes_one_transition(postgres_url: str) -> None:
    guide = load_guide(MINI_GUIDE)
    one, two = await _open_two(postgres_url)
    clock = ManualClock(AFTER)
    a, b = Engine(guide, one, clock), Engine(guide, two, clock)
    try:
        await a.handle(ALICE, Start())
        # Telegram re-sent the update and the retry landed on the other instance at the same moment.
        outcomes = await asyncio.gather(a.handle(ALICE, Press("o:1:decide")), b.handle(ALICE, Press("o:1:decide")))
        assert sorted(isinstance(o.replies[0], Notice) for o in outcomes) == [False, True]  # the loser's button is stale
        got = await one.get_user(ALICE, guide.pack)
        assert got.node == "plan" and [node for node, _ in got.history] == ["home"]
    finally:
        await one.close()
        await two.close()


async def test_two_instances_claiming_at_once_never_share_a_reminder(postgres_url: str) -> None:
    one, two = await _open_two(postgres_url)
    try:
        await one.schedule([NewReminder(Recipient("telegram", "user", str(i)), "claude", "deadline", "final", 1, T0)
                            for i in range(600)])

        async def drain(store: PostgresStorage, owner: str) -> list[int]:
            got: list[int] = []
            while batch := await store.claim(T0, 7, owner, T0 + timedelta(seconds=10), ["telegram"], ["claude"]):
                got += [r.id for r in batch]
            return got

        ids = await asyncio.gather(*(drain(store, f"{name}{i}") for i in range(4)
                                     for name, store in (("a", one), ("b", two))))
        every = [rid for got in ids for rid in got]
        assert len(every) == 600 and len(set(every)) == 600
        assert sum(1 for got in ids if got) >= 2  # the work really was split
        assert await one.counts() == {"sending": 600}
    finally:
        await one.close()
        await two.close()
