"""The UserStore contract, on every backend: revision-checked saves, packs kept apart, erasure for good."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.events import UserKey
from bot.storage import StaleStateError, Storage
from bot.storage.base import Person
from tests.storage.conftest import T0, state

ALICE = UserKey("telegram", "1")
EVER = (date(2000, 1, 1), date(2100, 1, 1))


async def test_unknown_user_is_none(backend: Storage) -> None:
    assert await backend.get_user(UserKey("telegram", "nobody"), "claude") is None


async def test_saved_state_round_trips_with_pack_and_locale(backend: Storage) -> None:
    saved = state()
    await backend.save_step(saved)
    assert saved.rev == 1
    got = await backend.get_user(ALICE, "claude")
    assert got == replace(state(), rev=1)
    assert (got.pack, got.locale) == ("claude", "de")


async def test_a_save_based_on_an_old_read_is_refused(backend: Storage) -> None:
    await backend.save_step(state())
    first = await backend.get_user(ALICE, "claude")
    second = await backend.get_user(ALICE, "claude")
    first.node = "code"
    await backend.save_step(first)
    second.node = "result"
    with pytest.raises(StaleStateError):
        await backend.save_step(second, ("started",))
    assert (await backend.get_user(ALICE, "claude")).node == "code"
    assert await backend.funnel(*EVER) == {}  # the refused step's counters are not added either


async def test_a_save_of_an_erased_row_is_refused_and_writes_nothing(backend: Storage) -> None:
    await backend.save_step(state())
    mine = await backend.get_user(ALICE, "claude")
    await backend.forget_user(ALICE)
    mine.answers["code"] = "yes"
    with pytest.raises(StaleStateError):
        await backend.save_step(mine, ("got_steps",))
    assert await backend.get_user(ALICE, "claude") is None
    assert await backend.funnel(*EVER) == {}


async def test_a_new_row_where_one_exists_is_refused(backend: Storage) -> None:
    await backend.save_step(state())
    with pytest.raises(StaleStateError):
        await backend.save_step(state(node="home"))
    assert (await backend.get_user(ALICE, "claude")).node == "plan"


async def test_a_row_retention_deleted_is_not_written_back(backend: Storage) -> None:
    await backend.save_step(state(at=T0 - timedelta(days=200)))
    mine = await backend.get_user(ALICE, "claude")
    assert await backend.delete_inactive(T0 - timedelta(days=180)) == 1
    mine.updated_at = T0
    with pytest.raises(StaleStateError):
        await backend.save_step(mine)
    assert await backend.get_user(ALICE, "claude") is None


async def test_saving_again_updates_but_keeps_created_at(backend: Storage) -> None:
    await backend.save_step(state())
    later = replace(state(node="code", step=4, at=T0 + timedelta(hours=1)), rev=1, pending="forget", locale="fr")
    await backend.save_step(later)
    got = await backend.get_user(ALICE, "claude")
    assert (got.node, got.step, got.pending, got.locale, got.rev) == ("code", 4, "forget", "fr", 2)
    assert got.created_at == T0 and got.updated_at == T0 + timedelta(hours=1)


async def test_the_chosen_language_round_trips_beside_the_hint(backend: Storage) -> None:
    mine = replace(state(), language="fr")
    await backend.save_step(mine)
    got = await backend.get_user(ALICE, "claude")
    assert (got.locale, got.language) == ("de", "fr")
    got.language = "es"
    await backend.save_step(got)
    assert (await backend.get_user(ALICE, "claude")).language == "es"


async def test_a_chosen_language_goes_on_every_row_of_the_person_and_nobody_elses(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.save_step(state("1", pack="gemini"))
    await backend.save_step(state("1", platform="discord"))
    await backend.save_step(state("2"))
    assert await backend.get_language(ALICE) is None
    assert await backend.set_language(ALICE, "pt_BR") == 2
    assert (await backend.get_user(ALICE, "claude")).language == "pt_BR"
    assert (await backend.get_user(ALICE, "gemini")).language == "pt_BR"
    assert await backend.get_language(ALICE) == "pt_BR"
    assert (await backend.get_user(UserKey("discord", "1"), "claude")).language is None
    assert (await backend.get_user(UserKey("telegram", "2"), "claude")).language is None
    assert await backend.get_language(UserKey("telegram", "2")) is None
    assert await backend.set_language(ALICE, "pt_BR") == 0  # rows that hold it already are left alone


async def test_setting_the_language_makes_an_older_read_of_another_pack_stale(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.save_step(state("1", pack="gemini"))
    elsewhere = await backend.get_user(ALICE, "gemini")
    here = await backend.get_user(ALICE, "claude")
    here.language = "de"
    await backend.save_step(here)
    assert await backend.set_language(ALICE, "de") == 1  # the other pack's row; this one has it already
    elsewhere.node = "code"
    with pytest.raises(StaleStateError):
        await backend.save_step(elsewhere)  # would have written the old choice back
    assert (await backend.get_user(ALICE, "gemini")).language == "de"


async def test_forget_erases_the_chosen_language(backend: Storage) -> None:
    await backend.save_step(replace(state("1"), language="es"))
    await backend.forget_user(ALICE)
    assert await backend.get_language(ALICE) is None


async def test_users_are_keyed_by_platform_id_and_pack(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.save_step(state("1", node="home", platform="discord"))
    other_pack = state("1", node="intro", pack="gemini")
    other_pack.answers = {"plan": "free"}
    await backend.save_step(other_pack)
    assert (await backend.get_user(ALICE, "claude")).answers == {"plan": "pro"}
    assert (await backend.get_user(ALICE, "gemini")).answers == {"plan": "free"}
    assert (await backend.get_user(UserKey("discord", "1"), "claude")).node == "home"
    assert await backend.get_user(UserKey("discord", "1"), "gemini") is None


async def test_forget_erases_every_pack_of_the_person_and_nobody_else(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.save_step(state("1", pack="gemini"))
    await backend.save_step(state("2"))
    await backend.save_step(state("1", platform="discord"))
    await backend.forget_user(ALICE)
    assert await backend.get_user(ALICE, "claude") is None
    assert await backend.get_user(ALICE, "gemini") is None
    assert await backend.get_user(UserKey("telegram", "2"), "claude") is not None
    assert await backend.get_user(UserKey("discord", "1"), "claude") is not None


async def test_a_forgotten_user_starts_afresh(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.forget_user(ALICE)
    fresh = replace(state("1", node="home", step=0), answers={}, history=[])
    await backend.save_step(fresh, ("started",))
    got = await backend.get_user(ALICE, "claude")
    assert (got.node, got.answers, got.rev) == ("home", {}, 1)


async def test_writes_go_on_after_an_erase(backend: Storage) -> None:
    await backend.save_step(state("1"))
    await backend.forget_user(ALICE)
    await backend.save_step(state("2"), ("started",))
    await backend.delete_inactive(T0 + timedelta(days=1))
    await backend.save_step(state("3"))
    assert (await backend.get_user(UserKey("telegram", "3"), "claude")).node == "plan"


async def test_delete_inactive_removes_people_idle_in_every_pack(backend: Storage) -> None:
    await backend.save_step(state("old", at=T0 - timedelta(days=200)))
    await backend.save_step(state("new", at=T0 - timedelta(days=10)))
    # Idle in one pack, active in another: still active, so both packs are kept.
    await backend.save_step(state("both", at=T0 - timedelta(days=200)))
    await backend.save_step(state("both", at=T0 - timedelta(days=1), pack="gemini"))
    assert await backend.delete_inactive(T0 - timedelta(days=180)) == 1
    assert await backend.get_user(UserKey("telegram", "old"), "claude") is None
    assert await backend.get_user(UserKey("telegram", "new"), "claude") is not None
    assert await backend.get_user(UserKey("telegram", "both"), "claude") is not None
    assert await backend.delete_inactive(T0) == 2
    assert await backend.get_user(UserKey("telegram", "both"), "gemini") is None


# The person record: the pack they moved in last, and the "Check all my assistants" record -------------
async def test_load_reads_the_person_and_the_row_of_the_pack_they_were_in_last(backend: Storage) -> None:
    assert await backend.load(ALICE, None) == (Person(ALICE), None)
    for pack in ("claude", "chatgpt", "gemini"):
        await backend.save_step(state(pack=pack))
    # No pointer yet: the default pack's row.
    assert (await backend.load(ALICE, None, "gemini"))[1].pack == "gemini"
    await backend.save_person(Person(ALICE, "chatgpt", '{"phase":"select","chosen":[],"index":0}', T0))
    person, row = await backend.load(ALICE, None)
    assert person == Person(ALICE, "chatgpt", '{"phase":"select","chosen":[],"index":0}', T0)
    assert (row.pack, row.node, row.rev) == ("chatgpt", "plan", 1)
    # A pack named by the event wins over the pointer; a pack without a row gives none.
    assert (await backend.load(ALICE, "gemini"))[1].pack == "gemini"
    assert (await backend.load(ALICE, "perplexity"))[1] is None
    await backend.save_person(Person(ALICE, "gemini", None, T0 + timedelta(minutes=1)))
    assert (await backend.get_person(ALICE)).last_pack == "gemini"


async def test_forget_and_retention_erase_the_person_record_too(backend: Storage) -> None:
    bob = UserKey("telegram", "2")
    await backend.save_step(state())
    await backend.save_person(Person(ALICE, "claude", None, T0))
    await backend.forget_user(ALICE)
    assert await backend.get_person(ALICE) is None and await backend.load(ALICE, None) == (Person(ALICE), None)
    # Someone who only ever opened "Check all my assistants" has a record and no row: retention finds them.
    await backend.save_person(Person(bob, None, '{"phase":"select","chosen":[],"index":0}', T0))
    assert await backend.delete_inactive(T0 + timedelta(days=1)) == 1
    assert await backend.get_person(bob) is None


async def test_retention_counts_the_person_record_as_activity(backend: Storage) -> None:
    # Someone still using "Check all my assistants" (which writes only their record) is not idle because
    # their row in a pack is old; once both are old, both go.
    await backend.save_step(state())
    await backend.save_person(Person(ALICE, None, '{"phase":"select","chosen":[],"index":0}', T0 + timedelta(days=2)))
    assert await backend.delete_inactive(T0 + timedelta(days=1)) == 0
    assert (await backend.get_user(ALICE, "claude")) is not None and await backend.get_person(ALICE) is not None
    assert await backend.delete_inactive(T0 + timedelta(days=3)) == 1
    assert await backend.get_user(ALICE, "claude") is None and await backend.get_person(ALICE) is None
