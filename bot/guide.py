"""The guide as data: pydantic models for the YAML under content/, and the loader."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.i18n import EN, ENGLISH, Lang, lang

DEFAULT_CONTENT_PATH = Path(__file__).resolve().parent.parent / "content" / "claude.yaml"

# Plain ids; option ids and entry names travel inside button data, whose size `content check` checks.
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a deadline needs a time zone, e.g. 2025-10-08T23:59:00-07:00")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("a reminder offset must be a positive duration such as P7D or PT1M")
    return value


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# What a source is: a page of the vendor's own (read directly or through a mirror of it), or anything
# else (news, blogs, forums, user reports). It decides how a pack may word its freshness line.
SourceKind = Literal["vendor", "press"]


class Source(Model):
    id: Id
    title: str
    url: str = Field(pattern=r"^https?://")
    seen: date
    # Optional in the model so that a test's small guide need not say; `content check` requires it.
    kind: SourceKind | None = None


class Deadline(Model):
    id: Id
    at: Annotated[datetime, AfterValidator(_aware)]
    label: str
    offsets: tuple[Annotated[timedelta, AfterValidator(_positive)], ...] = ()


class When(Model):
    """Conditions under which a block is shown; every condition given must hold."""

    answers: dict[str, tuple[str, ...]] = {}
    not_answers: dict[str, tuple[str, ...]] = {}
    # A deadline id: shown only while that deadline is still ahead / once it has passed.
    before: Id | None = None
    after: Id | None = None

    def allows(self, answers: dict[str, str]) -> bool:
        """Tell whether the answer conditions hold (the date conditions are the engine's to judge)."""
        if any(answers.get(k) not in allowed for k, allowed in self.answers.items()):
            return False
        return not any(answers.get(k) in banned for k, banned in self.not_answers.items())


class Block(Model):
    id: Id
    text: str
    sources: tuple[Id, ...] = ()
    when: When = When()
    # Start a new message here (when something precedes it): keeps a long node readable on a phone.
    new_message: bool = False
    # The instructions people follow: `content check` lets a node say "Steps checked {checked}" only
    # when each of its steps blocks cites a vendor page.
    steps: bool = False


# "packs" lists the other guide packs ("Other assistants").
OptionAction = Literal["confirm_off", "remind", "restart", "sources", "packs"]


class Option(Model):
    id: Id
    label: str
    next: Id | None = None
    # Recorded into the user's answers when the option is chosen: {question key: value}.
    record: dict[str, str] = {}
    action: OptionAction | None = None
    # Shown only when these conditions hold (e.g. "✅ It's still off" for people who had switched it off).
    when: When = When()

    @model_validator(mode="after")
    def _one_effect(self) -> Option:
        if (self.next is None) == (self.action is None):
            raise ValueError(f"option {self.id!r} needs exactly one of 'next' or 'action'")
        return self


class _Node(Model):
    id: Id
    # Text is a list of blocks so that any node, not only results, can vary with answers and dates.
    blocks: tuple[Block, ...] = Field(min_length=1)


class QuestionNode(_Node):
    kind: Literal["question"]
    options: tuple[Option, ...] = Field(min_length=1)


class InfoNode(_Node):
    kind: Literal["info"]
    next: Id
    continue_label: str = "Continue"


class ResultNode(_Node):
    kind: Literal["result"]
    options: tuple[Option, ...] = ()


Node = Annotated[QuestionNode | InfoNode | ResultNode, Field(discriminator="kind")]


class NodeTranslation(Model):
    blocks: dict[Id, str] = {}
    options: dict[Id, str] = {}
    continue_label: str | None = None


class Translation(Model):
    """One language's texts for a guide, keyed by the English guide's ids (``content/i18n/PACK.LANG.yaml``).

    Only text: conditions, sources, ``# facts:`` comments and dates stay in the English file, so a
    translation cannot drift from what the sources back. ``version`` is the English version it
    translates; `content check` fails when the English moves on without it.
    """

    # The English version last translated (informational: staleness is judged per text, below).
    version: str | None = None
    title: str
    deadlines: dict[Id, str] = {}
    nodes: dict[Id, NodeTranslation] = {}
    # The ``changes`` note's text: alert subscribers get it in their language.
    changes: str | None = Field(default=None, min_length=1, max_length=400)
    # The setting's name as reminders quote it (see Guide.setting).
    setting: str | None = Field(default=None, min_length=1, max_length=120)
    # What each text was translated from: key (see ``translatable_texts``) -> ``text_hash`` of the
    # English text at the time. `content check` fails when the English has changed since.
    translated_from: dict[str, str] = {}


class ChangeNote(Model):
    """What changed in a pack's ``version``: sent once to its alert subscribers; sourced like a block."""

    # The pack version this note announces; a note left over from an earlier version sends nothing.
    version: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=400)
    sources: tuple[Id, ...] = Field(min_length=1)


class Guide(Model):
    # The guide pack (e.g. "claude"): users' answers and reminders are kept per pack. load_guide takes
    # the file's name (content/claude.yaml: "claude") when the file does not say.
    pack: Id
    version: str = Field(min_length=1, max_length=32)
    # The languages the pack speaks: English (this file) and those with a translation file.
    languages: tuple[str, ...] = (ENGLISH,)
    # The language of the texts of this instance (see ``in_language``), and the loaded translations.
    language: str = ENGLISH
    translations: dict[str, Translation] = {}
    title: str
    # The assistant's name on buttons and in lists ("ChatGPT"); the title when not given.
    short_name: str | None = Field(None, alias="name", max_length=40)
    start: Id
    # Deep-link names (``/start steps``) mapped to the node they open.
    entries: dict[Id, Id] = {}
    # Names the engine and the reminders rely on, kept with the guide rather than in code.
    confirm_key: Id = "turned_off"  # the answer a `confirm_off` action records as "yes"
    steps_entry: Id = "steps"  # the entry /steps and the reminders' "Show me the steps" button open
    troubleshoot_entry: Id | None = None  # the entry a "did it work?" check-in offers for "I couldn't find it"
    deadlines: tuple[Deadline, ...] = ()
    sources: tuple[Source, ...] = ()
    nodes: tuple[Node, ...] = Field(min_length=1)
    changes: ChangeNote | None = None
    # The setting's name as reminders and check-backs quote it ("“Help improve Claude”"); the pack's
    # name ("the ChatGPT setting") when not given.
    setting: str | None = Field(default=None, min_length=1, max_length=120)

    @property
    def name(self) -> str:
        return self.short_name or self.title

    @property
    def checked(self) -> date | None:
        """When the pack's facts were last checked: its newest source's ``seen`` date."""
        return max((s.seen for s in self.sources), default=None)

    def node(self, node_id: str) -> QuestionNode | InfoNode | ResultNode:
        return self._nodes_by_id[node_id]

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes_by_id

    def deadline(self, deadline_id: str) -> Deadline:
        return {d.id: d for d in self.deadlines}[deadline_id]

    def in_language(self, language: str) -> Guide:
        """The same guide with its texts in ``language``; English when the pack has no such translation.

        A text the translation lacks stays English (`content check` reports it, and start-up runs the check).
        """
        tr = self.translations.get(language)
        if tr is None or language not in self.languages:
            return self
        nodes = []
        for node in self.nodes:
            nt = tr.nodes.get(node.id, NodeTranslation())
            update: dict[str, object] = {
                "blocks": tuple(b.model_copy(update={"text": nt.blocks.get(b.id, b.text)}) for b in node.blocks)
            }
            if isinstance(node, InfoNode):
                update["continue_label"] = nt.continue_label or node.continue_label
            else:
                update["options"] = tuple(o.model_copy(update={"label": nt.options.get(o.id, o.label)})
                                          for o in node.options)
            nodes.append(node.model_copy(update=update))
        deadlines = tuple(d.model_copy(update={"label": tr.deadlines.get(d.id, d.label)}) for d in self.deadlines)
        changes = self.changes.model_copy(update={"text": tr.changes}) if self.changes and tr.changes else self.changes
        return self.model_copy(update={"language": language, "title": tr.title, "nodes": tuple(nodes),
                                       "deadlines": deadlines, "changes": changes, "translations": {},
                                       "setting": tr.setting or self.setting})

    @property
    def _nodes_by_id(self) -> dict[str, QuestionNode | InfoNode | ResultNode]:
        # Frozen models cannot hold a cache attribute; the guide is small, so a dict per call is cheap
        # enough for checks, and the engine keeps its own index.
        return {n.id: n for n in self.nodes}


def text_hash(text: str) -> str:
    """A short fingerprint of an English text, recorded by a translation of it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def translatable_texts(guide: Guide) -> dict[str, str]:
    """Every English text a translation must carry, by the key its ``translated_from`` records it under.

    Keys: ``title``, ``setting``, ``deadlines.ID``, ``changes``, ``NODE.BLOCK``, ``NODE.options.ID`` and
    ``NODE.continue_label``.
    """
    texts = {"title": guide.title}
    if guide.setting is not None:
        texts["setting"] = guide.setting
    texts.update({f"deadlines.{d.id}": d.label for d in guide.deadlines})
    if guide.changes is not None:
        texts["changes"] = guide.changes.text
    for node in guide.nodes:
        texts.update({f"{node.id}.{b.id}": b.text for b in node.blocks})
        if isinstance(node, InfoNode):
            texts[f"{node.id}.continue_label"] = node.continue_label
        else:
            texts.update({f"{node.id}.options.{o.id}": o.label for o in node.options})
    return texts


def translated_texts(tr: Translation) -> dict[str, str | None]:
    """A translation's texts under the keys of ``translatable_texts``."""
    texts: dict[str, str | None] = {"title": tr.title, "setting": tr.setting, "changes": tr.changes}
    texts.update({f"deadlines.{k}": v for k, v in tr.deadlines.items()})
    for node_id, nt in tr.nodes.items():
        texts.update({f"{node_id}.{k}": v for k, v in nt.blocks.items()})
        texts.update({f"{node_id}.options.{k}": v for k, v in nt.options.items()})
        texts[f"{node_id}.continue_label"] = nt.continue_label
    return texts


class GuideError(Exception):
    """A guide file that cannot be read or does not match the format; str() is one line per problem."""


def translation_path(path: Path, language: str) -> Path:
    """Where a guide's translation lives: ``content/i18n/claude.de.yaml`` for ``content/claude.yaml``.

    A folder of its own, so that a loader looking for packs as ``content/*.yaml`` never takes a
    translation for a pack.
    """
    return path.parent / "i18n" / f"{path.stem}.{language}.yaml"


def _read_yaml(path: Path, what: str) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GuideError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise GuideError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def load_guide(path: Path | str | None = None) -> Guide:
    """Load and validate a guide and the translations it declares (structure only; bot.content_check does the rest)."""
    path = Path(path) if path else DEFAULT_CONTENT_PATH
    raw = _read_yaml(path, "guide")
    if isinstance(raw, dict):
        raw.setdefault("pack", path.stem)
        languages = raw.get("languages") or ()
        if isinstance(languages, list) and "translations" not in raw:
            raw["translations"] = {}
            for language in languages:
                if language != ENGLISH and isinstance(language, str):
                    tr_path = translation_path(path, language)
                    raw["translations"][language] = _load_translation(tr_path)
    try:
        return Guide.model_validate(raw)
    except Exception as exc:  # pydantic.ValidationError; anything else is still a bad guide
        raise GuideError("\n".join(_validation_lines(path, raw, exc))) from None


def _load_translation(path: Path) -> Translation:
    raw = _read_yaml(path, "translation")
    try:
        return Translation.model_validate(raw)
    except Exception as exc:
        raise GuideError("\n".join(_validation_lines(path, raw, exc))) from None


def _validation_lines(path: Path, raw: object, exc: Exception) -> list[str]:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return [f"{path}: {exc}"]
    lines = []
    for err in errors():
        loc = err.get("loc", ())
        where = _node_id_at(raw, loc) or ".".join(str(p) for p in loc) or "guide"
        # In a node, loc is ("nodes", index, kind, field...): the kind tag adds nothing for a reader.
        field = ".".join(str(p) for p in loc[3:]) if where and loc[:1] == ("nodes",) else ""
        msg = err.get("msg", "invalid")
        lines.append(f"{path}: {where}: {field + ': ' if field else ''}{msg}")
    return lines


def _node_id_at(raw: object, loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(raw, dict):
        nodes = raw.get("nodes")
        if isinstance(nodes, list) and isinstance(loc[1], int) and loc[1] < len(nodes):
            node = nodes[loc[1]]
            if isinstance(node, dict) and "id" in node:
                return str(node["id"])
    return None


_PLACEHOLDER = re.compile(r"\{deadline\.([a-z0-9_-]+)\.(date|left)\}")
CHECKED = "{checked}"  # the pack's last-checked date (``Guide.checked``)


def placeholders(text: str) -> list[tuple[str, str]]:
    """Return the (deadline id, field) pairs named by ``{deadline.ID.date|left}`` in a text."""
    return _PLACEHOLDER.findall(text)


def fill_placeholders(text: str, guide: Guide, now: datetime, t: Lang | None = None) -> str:
    """Replace ``{deadline.ID.date}`` with the date and ``{deadline.ID.left}`` with the time left."""

    t = t or lang(guide.language)

    def sub(match: re.Match[str]) -> str:
        deadline = guide.deadline(match.group(1))
        if match.group(2) == "date":
            return t.date(deadline.at)
        return format_left(deadline.at, now, t=t)

    text = _PLACEHOLDER.sub(sub, text)
    if CHECKED in text:
        checked = guide.checked
        text = text.replace(CHECKED, t.date(checked) if checked else t._("(never)"))
    return text


# The first time zone to reach any wall-clock time (Kiribati, UTC+14).
EARLIEST_ZONE = timezone(timedelta(hours=14))


def earliest_reading(at: datetime) -> datetime:
    """The first moment anywhere on Earth that reads as ``at``'s own date and time of day.

    People read "until 8 October" in their own zone; counting down to the earliest of those
    readings never tells anyone there is time left once their own 8 October is over.
    """
    return datetime.combine(at.date(), at.time(), EARLIEST_ZONE)


def format_left(at: datetime, now: datetime, *, t: Lang = EN) -> str:
    """Say how long is left until a deadline, in whole days ("3 days", "1 day", "less than a day").

    Never in hours: a date without a time zone cannot honestly be counted down to the hour, so the
    count runs to the earliest reading of the date (see ``earliest_reading``).
    """
    days = (earliest_reading(at) - now) // timedelta(days=1)
    if days < 1:
        return t._("less than a day")
    return t.duration(days, "day")
