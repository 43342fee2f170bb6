"""`optout-bot content check` and `content diagram` on good and broken guides."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content_check import check_guide, check_pack, guide_paths, mermaid
from bot.guide import GuideError, load_guide, text_hash
from tests.conftest import MINI_GUIDE, ROOT, SHIPPED_GUIDE

CLI = [sys.executable, "-m", "bot.cli"]


def _broken(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(MINI_GUIDE.read_text())
    mutate(raw)
    path = tmp_path / "guide.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _node(raw: dict, node_id: str) -> dict:
    return next(n for n in raw["nodes"] if n["id"] == node_id)


def _problems(path: Path) -> list[str]:
    return check_guide(load_guide(path), path)


def test_the_mini_guide_is_sound() -> None:
    assert check_guide(load_guide(MINI_GUIDE)) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda g: _node(g, "plan")["options"][0].update(next="nowhere"), "plan: unknown target 'nowhere'"),
        (lambda g: g["nodes"].append({"id": "orphan", "kind": "result", "blocks": [{"id": "a", "text": "x"}]}),
         "orphan: unreachable node"),
        (lambda g: _node(g, "result")["blocks"][0].update(sources=["nope"]),
         "result: block 'steps' cites unknown source id 'nope'"),
        (lambda g: g["nodes"].append(dict(_node(g, "steps"))), "steps: duplicate node id (2 times)"),
        (lambda g: _node(g, "plan")["options"][0].update(label="x" * 65), "plan: button label over 64 characters"),
        (lambda g: _node(g, "plan")["options"][0].update(id="a" * 60), "exceeds 60 bytes"),
        (lambda g: _node(g, "home")["blocks"][1]["when"].update(before="later"), "names unknown deadline 'later'"),
        (lambda g: _node(g, "plan")["options"][0].update(when={"after": "later"}),
         "plan: option 'free' names unknown deadline 'later'"),
        (lambda g: [o.update(when={"answers": {"code": ["yes"]}}) for o in _node(g, "plan")["options"]],
         "plan: every option has a 'when': some users could be left without a button"),
    ],
    ids=["unknown-target", "unreachable", "unknown-source", "duplicate", "long-label", "long-data", "deadline",
         "option-deadline", "no-button-left"],
)
def test_each_problem_is_one_clear_line(tmp_path: Path, mutate, expected: str) -> None:
    path = _broken(tmp_path, mutate)
    problems = _problems(path)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"{path}: ") for p in problems)


def test_a_cycle_with_no_way_out_and_a_dead_end(tmp_path: Path) -> None:
    def mutate(g: dict) -> None:
        g["nodes"] += [
            {"id": "loop1", "kind": "info", "blocks": [{"id": "a", "text": "1"}], "next": "loop2"},
            {"id": "loop2", "kind": "info", "blocks": [{"id": "a", "text": "2"}], "next": "loop1"},
            {"id": "dead", "kind": "question", "blocks": [{"id": "a", "text": "?"}],
             "options": [{"id": "x", "label": "X", "action": "sources"}]},
        ]
        _node(g, "home")["options"] += [{"id": "loop", "label": "Loop", "next": "loop1"},
                                         {"id": "dead", "label": "Dead", "next": "dead"}]

    problems = _problems(_broken(tmp_path, mutate))
    assert any("loop1: cycle with no way out" in p for p in problems)
    assert any("dead: path never reaches a result" in p for p in problems)


def test_format_errors_name_the_node(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda g: _node(g, "plan").update(colour="red"))
    with pytest.raises(GuideError, match=r"guide.yaml: plan: colour: Extra inputs are not permitted"):
        load_guide(path)


def test_deadline_without_time_zone_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda g: g["deadlines"][0].update(at="2025-09-28T12:00:00"))
    with pytest.raises(GuideError, match="needs a time zone"):
        load_guide(path)


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    ok = subprocess.run([*CLI, "content", "check", str(MINI_GUIDE)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "ok (pack mini, version mini-1" in ok.stdout
    bad = _broken(tmp_path, lambda g: _node(g, "plan")["options"][0].update(next="nowhere"))
    run = subprocess.run([*CLI, "content", "check", str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    problems = [line for line in run.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert problems == [f"{bad}: plan: unknown target 'nowhere'"]
    junk = tmp_path / "junk.yaml"
    junk.write_text("nodes: [unclosed")
    run = subprocess.run([*CLI, "content", "check", str(junk)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "not valid YAML" in run.stderr and "Traceback" not in run.stderr


def test_diagram_draws_every_node_and_edge() -> None:
    guide = load_guide(MINI_GUIDE)
    chart = mermaid(guide)
    assert chart.startswith("flowchart TD")
    assert 'plan{"Which plan do you use?"}' in chart
    assert 'plan -->|"Free"| code' in chart
    assert 'changed -->|"Continue"| home' in chart
    assert "entry_steps((/start steps)) -.-> steps" in chart


def test_paths_enumerate_every_way_to_a_result() -> None:
    paths = guide_paths(load_guide(MINI_GUIDE))
    ends = sorted((tuple(o for _, o in p.presses), p.result) for p in paths)
    assert ends == [
        (("decide", "free", "no"), "result"),
        (("decide", "free", "yes"), "result"),
        (("decide", "pro", "no"), "result"),
        (("decide", "pro", "yes"), "result"),
        (("decide", "team"), "result"),
        (("steps",), "steps"),
    ]


def test_paths_follow_only_the_options_the_answers_allow(tmp_path: Path) -> None:
    def mutate(g: dict) -> None:
        # "Team" only for people who never answered the plan: unreachable from the plan question itself.
        _node(g, "plan")["options"][2].update(when={"answers": {"plan": ["none-yet"]}})

    guide = load_guide(_broken(tmp_path, mutate))
    assert check_guide(guide) == []  # the graph checks count every option; the paths only the allowed ones
    pressed = {option for path in guide_paths(guide) for node, option in path.presses if node == "plan"}
    assert pressed == {"free", "pro"}


# Translations ---------------------------------------------------------------------------------
def _translated(tmp_path: Path, mutate) -> Path:
    """The shipped guide and its translations, copied, with the German file changed by ``mutate``."""
    (tmp_path / "i18n").mkdir()
    shipped = SHIPPED_GUIDE.parent
    guide = tmp_path / "claude.yaml"
    guide.write_text(SHIPPED_GUIDE.read_text())
    for sheet in shipped.glob("facts*.md"):  # so the facts check runs, and only the translation falls short
        (tmp_path / sheet.name).write_text(sheet.read_text())
    for source in (shipped / "i18n").glob("claude.*.yaml"):
        raw = yaml.safe_load(source.read_text())
        if source.name == "claude.de.yaml":
            mutate(raw)
        (tmp_path / "i18n" / source.name).write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return guide


def test_the_shipped_translations_are_complete() -> None:
    guide = load_guide(SHIPPED_GUIDE)
    assert set(guide.languages) == {"en", "de", "es", "fr", "pt_BR"}
    assert check_guide(guide, SHIPPED_GUIDE) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t["nodes"]["result"]["blocks"].pop("r_limit"), "result: block 'r_limit' not translated"),
        (lambda t: t["nodes"]["plan"]["options"].pop("api"), "plan: option 'api' not translated"),
        (lambda t: t["nodes"].pop("troubleshoot"), "troubleshoot: node not translated"),
        (lambda t: t["deadlines"].pop("final"), "deadlines.final: label not translated"),
        (lambda t: t["nodes"]["start"]["blocks"].update(dl_ahead="Bis zum {deadline.first.date}."),
         "start: block 'dl_ahead': placeholders {deadline.first.date} differ from English "
         "{deadline.final.date}, {deadline.first.date}"),
        (lambda t: t["nodes"]["result"]["blocks"].update(r_steps="Siehe [hier](https://example.com)."),
         "result: block 'r_steps': links differ from English"),
        (lambda t: t["nodes"]["result"]["options"].update(details="📖 " + "Mehr " * 20),
         "result: option 'details': button label over 64 characters"),
        (lambda t: t["nodes"]["plan"]["options"].update(gone="Weg"), "plan: option 'gone' is not in the English guide"),
        (lambda t: t["translated_from"].update({"result.r_limit": "00000000"}),
         "result.r_limit: the English changed since this was translated"),
    ],
    ids=["block", "option", "node", "deadline", "placeholder", "link", "long-button", "extra", "stale"],
)
def test_content_check_catches_a_translation_that_falls_short(tmp_path: Path, mutate, expected: str) -> None:
    guide = _translated(tmp_path, mutate)
    problems = check_guide(load_guide(guide), guide)
    assert [p for p in problems if expected in p] != [], problems
    assert all(p.startswith(f"{tmp_path / 'i18n' / 'claude.de.yaml'}: ") for p in problems), problems


def test_a_changed_english_text_makes_every_translation_of_it_stale(tmp_path: Path) -> None:
    guide = _translated(tmp_path, lambda t: None)
    guide.write_text(guide.read_text().replace("in a started training run", "in a training run that started"))
    problems = check_guide(load_guide(guide), guide)
    assert sorted(problems) == sorted(
        f"{tmp_path}/i18n/claude.{lang}.yaml: result.r_limit: the English changed since this was translated: "
        f"translate it again (optout-bot content stale {lang})" for lang in ("de", "es", "fr", "pt_BR")
    )
    run = subprocess.run([*CLI, "content", "stale", "fr"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "CONTENT_PATH": str(guide)})
    assert run.returncode == 1, run.stderr
    english = next(b.text for b in load_guide(guide).node("result").blocks if b.id == "r_limit")
    assert run.stdout.splitlines() == [
        f"{tmp_path}/i18n/claude.fr.yaml: result.r_limit: changed (translated_from: {text_hash(english)}): "
        f"{' '.join(english.split())[:70]}"
    ]


def test_content_stale_says_when_nothing_needs_translating() -> None:
    run = subprocess.run([*CLI, "content", "stale"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "CONTENT_PATH": str(SHIPPED_GUIDE)})
    assert (run.returncode, run.stdout, run.stderr.strip()) == (0, "", "nothing to translate")
    bad = subprocess.run([*CLI, "content", "stale", "xx"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "'xx' is not a language the bot speaks" in bad.stderr


def test_cli_check_fails_on_a_missing_translation(tmp_path: Path) -> None:
    guide = _translated(tmp_path, lambda t: t["nodes"]["code"]["blocks"].pop("code_ask"))
    run = subprocess.run([*CLI, "content", "check", str(guide)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"{tmp_path}/i18n/claude.de.yaml: code: block 'code_ask' not translated"]
    (tmp_path / "i18n" / "claude.fr.yaml").unlink()
    run = subprocess.run([*CLI, "content", "check", str(guide)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "claude.fr.yaml: cannot read the translation" in run.stderr


def test_a_declared_language_needs_its_translation_file(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda g: g.update(languages=["en", "xx"]))
    with pytest.raises(GuideError, match=r"xx\.yaml: cannot read the translation"):
        load_guide(path)


def test_the_entries_the_engine_relies_on_must_exist(tmp_path) -> None:
    guide = load_guide(SHIPPED_GUIDE).model_copy(update={"steps_entry": "nowhere", "troubleshoot_entry": "gone"})
    problems = check_guide(guide, "g.yaml")
    assert "g.yaml: steps_entry: names 'nowhere', which is not one of the guide's entries" in problems
    assert "g.yaml: troubleshoot_entry: names 'gone', which is not one of the guide's entries" in problems


# A pack in a content directory with a fact sheet beside it, as under content/.
PACK = """\
version: "1"
title: Test pack
start: start
entries:
  steps: result
sources:
  - id: vendor
    title: Vendor help
    url: https://example.com/help
    seen: 2026-11-30
    kind: vendor
nodes:
  - id: start
    kind: question
    blocks:
      # facts: AB1
      - id: hello
        sources: [vendor]
        text: The switch is on.
    options:
      - id: go
        label: Go
        next: result
  - id: result
    kind: result
    blocks:
      # facts: none
      - id: checked
        text: "Checked {checked}."
"""
SHEET = "# Sheet\n\n## AB\n- AB1. The switch is on (vendor).\n"


def _pack_dir(tmp_path: Path, text: str = PACK) -> Path:
    (tmp_path / "facts-test.md").write_text(SHEET)
    path = tmp_path / "testpack.yaml"
    path.write_text(text)
    return path


def _check_all(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "content", "check", str(directory)], capture_output=True, text=True, cwd=ROOT)


def test_check_passes_a_sound_pack_and_checks_every_pack_of_a_directory(tmp_path: Path) -> None:
    _pack_dir(tmp_path)
    (tmp_path / "second.yaml").write_text(PACK.replace("Test pack", "Second"))
    run = _check_all(tmp_path)
    assert run.returncode == 0, run.stderr
    assert "testpack.yaml: ok (pack testpack" in run.stdout and "second.yaml: ok (pack second" in run.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("# facts: AB1", "# facts: AB9"), "start: block 'hello': unknown fact id 'AB9' (not in the fact sheet)"),
        (("sources: [vendor]", "sources: [nobody]"), "start: block 'hello' cites unknown source id 'nobody'"),
        (("      # facts: none\n", ""), "result: block 'checked': no '# facts:' comment above it"),
        (("        sources: [vendor]\n", ""), "start: block 'hello': states AB1 but cites no source"),
    ],
    ids=["unknown-fact", "unknown-source", "no-comment", "no-source"],
)
def test_check_fails_a_pack_with_an_unknown_fact_or_source(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = _pack_dir(tmp_path, PACK.replace(*change))
    (tmp_path / "sound.yaml").write_text(PACK)
    run = _check_all(tmp_path)
    assert run.returncode == 1
    assert f"{path}: {expected}" in run.stderr.splitlines()
    assert "sound.yaml: ok" in run.stdout  # the other packs are still checked


def test_old_facts_and_a_stale_changes_note_warn_without_failing(tmp_path: Path) -> None:
    text = PACK.replace("seen: 2026-11-30", "seen: 2025-01-10") + (
        "# facts: AB1\nchanges:\n  version: \"0\"\n  text: The switch moved.\n  sources: [vendor]\n"
    )
    path = _pack_dir(tmp_path, text)
    report = check_pack(path, date(2026, 11, 30))
    assert report.problems == []
    assert report.warnings == [
        f"{path}: facts last checked 2025-01-10, over 180 days ago: read the sources again",
        f"{path}: the changes note is for version 0, not 1: no alert will be sent",
    ]
    assert check_pack(path, date(2025, 7, 9)).warnings[:1] == [report.warnings[1]]  # 180 days: not yet old
    run = _check_all(tmp_path)
    assert run.returncode == 0
    assert f"warning: {path}: facts last checked 2025-01-10" in run.stderr


def test_diagram_by_pack_name() -> None:
    run = subprocess.run([*CLI, "content", "diagram", "chatgpt"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0
    assert run.stdout.startswith("flowchart TD") and 'start -->|"🏢 Team, Enterprise or Edu"| work_result' in run.stdout
    run = subprocess.run([*CLI, "content", "diagram", "nosuch"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "nosuch.yaml" in run.stderr


def test_the_share_texts_must_speak_every_language_of_a_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import share

    claude, chatgpt = load_guide(SHIPPED_GUIDE), load_guide(SHIPPED_GUIDE.parent / "chatgpt.yaml")
    assert check_guide(claude, "claude.yaml") == [] and check_guide(chatgpt, "chatgpt.yaml") == []
    # A share text the catalogs lack: Claude's guide speaks four more languages, ChatGPT's English only.
    monkeypatch.setattr(share, "TEXTS", (*share.TEXTS, "A share text nobody translated"))
    assert check_guide(claude, "claude.yaml") == [
        f"claude.yaml: share: no translation of {code}: A share text nobody translated" for code in ("de", "es", "fr", "pt_BR")
    ]
    assert check_guide(chatgpt, "chatgpt.yaml") == []


# Sources and freshness (issue 20) -------------------------------------------------------------------------------
STEPS_PACK = PACK.replace('''      # facts: none
      - id: checked
        text: "Checked {checked}."
''', '''      # facts: AB1
      - id: how
        steps: true
        sources: [vendor]
        text: "1. Open **Settings**."
      # facts: none
      - id: checked
        text: "_Steps checked {checked}._"
''')


def test_steps_resting_on_a_vendor_page_may_say_steps_checked(tmp_path: Path) -> None:
    assert check_pack(_pack_dir(tmp_path, STEPS_PACK), date(2026, 12, 6)).problems == []


def test_steps_resting_on_press_reports_must_say_last_reviewed(tmp_path: Path) -> None:
    path = _pack_dir(tmp_path, STEPS_PACK.replace("kind: vendor", "kind: press"))
    assert check_pack(path, date(2026, 12, 6)).problems == [
        f"{path}: result: its steps rest on no vendor page that was read: "
        "say 'Last reviewed {checked}, from press reports'"]
    fixed = _pack_dir(tmp_path, STEPS_PACK.replace("kind: vendor", "kind: press").replace(
        "_Steps checked {checked}._", "_Last reviewed {checked}, from press reports._"))
    assert check_pack(fixed, date(2026, 12, 6)).problems == []
    run = _check_all(tmp_path)
    assert run.returncode == 0 and "testpack.yaml: ok" in run.stdout


def test_a_node_without_steps_cannot_say_steps_checked(tmp_path: Path) -> None:
    path = _pack_dir(tmp_path, PACK.replace('"Checked {checked}."', '"Steps checked {checked}."'))
    assert check_pack(path, date(2026, 12, 6)).problems == [
        f"{path}: result: says 'Steps checked {{checked}}' but shows no steps (mark them 'steps: true')"]


@pytest.mark.parametrize("url", ["https://www.techradar.com/", "https://makeuseof.com", "http://example.org//"])
def test_a_source_that_is_only_a_sites_root_is_refused(tmp_path: Path, url: str) -> None:
    path = _pack_dir(tmp_path, PACK.replace("https://example.com/help", url))
    run = _check_all(tmp_path)
    assert run.returncode == 1
    assert f"{path}: sources.vendor: {url} is a site's root, not the page read: give the article's address" in run.stderr


def test_a_source_must_say_whether_it_is_the_vendors_page_or_press(tmp_path: Path) -> None:
    path = _pack_dir(tmp_path, PACK.replace("    kind: vendor\n", ""))
    assert f"{path}: sources.vendor: say 'kind: vendor' (the vendor's own page, or a mirror of it) or 'kind: press'" in (
        check_pack(path, date(2026, 12, 6)).problems)
