r"""Desk dialogues written as data: beneficiaries, researchers and an admin in their private
chats and the staff group, driving the real router on a real database (SQLite, and
PostgreSQL when WASL_TEST_DATABASE_URL is set), each step checked by what every party then
receives. WASL_DIALOGUE_TRACE=1 prints what every step sent (with -s).

One YAML file per subject in tests/integration/desk_dialogues/, one dialogue per YAML
document (several in a file are separated by `---`); files starting with `_` hold snippets.
Numbers, dates and yes/no stay text as typed (quote nothing but what YAML needs).

    name: claim_race                # the test id (default: the file name)
    about: two researchers press Take on the same case
    xfail: the reason               # the whole dialogue fails today (strict: a fix shows)
    lang: ar                        # everyone's language unless they say (default ar)
    people:                         # r1 Noura Alotaibi, r2 Sara Alharbi (researchers) and
      r1: {lang: en}                # admin Huda are always there; any other alias that acts
      b1: {lang: en}                # is a beneficiary on telegram ({channel: web} also)
      r3: {role: researcher, name: Reem Alqahtani}
    profile: {staff_first_name: false}  # bakkah with these keys replaced; it has a staff
                                        # group with topics unless `staff_group: null`
    answers: true                   # the bot answers questions itself (the bundled model)
    never:                          # strings a party must not get at any step
      b1: [the internal note]
    steps:
      - b1: السلام عليكم            # who acts (an alias) and what they send: text (commands
                                    # too), or one of:
      - b1: {press: accept}         #   a button by its id, offered or not (a forged one)
      - r1: {press: {label: "Take #{case}"}}  # a button offered to them, by its label
      - b1: {file: id.png}          #   a file (png, jpg or pdf content is made up), or
                                    #   {file: {name: form.pdf, mime: application/pdf}}
      - b1: {contact: "0551234567"} #   a shared contact; {says: TEXT} is text
      - r1: /close
        in: topic {case}            # where: private (the default), group, topic N (case
                                    # N's forum topic), reply N (in the group, replying to
                                    # its latest message about case N)
        expect:                     # what each party received in this step: by alias,
          r1: "Case #{case} is closed."   # `group` (the staff group), `topic N`
          b1:                       # a string: in their messages (all joined); a list or
            - closed                # a mapping: several checks, each one of
            - matches: 'رقم \d+'    #   matches: a regex        lacks: a string absent
            - buttons: [Yes, No]    #   buttons: one message's labels, exactly ([]: none)
            - document: id.png      #   button_ids: the same by id
            - count: 2              #   document: a file by name (true any, false none)
                                    #   count: messages         exactly: the whole text
          r2: nothing               # received nothing
          others: nothing           # nobody not named here received anything
        capture: {case: '#(\d+)'}   # a regex's group (or match) from the actor's messages
                                    # first, then anyone's; or {from: alias, re: ...}
        audit:                      # entries written in this step, each must be there
          - {actor: r1, action: close, allowed: true, case: "{case}"}  # also request, detail
        no_audit: [{action: view_file}]  # and none like these
        db:                         # the database after the step
          - {case: "{case}", status: closed, holder: none}   # holder: an alias or none
          - {request: "{number}", status: committee}
          - {request: "{number}", answers: {mobile: "+966551112233"}, signed: wasl-ack-2/ar+c1}
        xfail: the reason           # this step fails today (strict: if it passes, the
                                    # test fails and asks for the mark to go)
      - together:                   # events at the same moment (two webhook calls)
          - r1: {press: "claim:{case}"}
          - r2: {press: "claim:{case}"}
        race:                       # exactly one of `among` passes `winner`, each other
          among: [r1, r2]           # passes `losers`; then {winner}, {winner_name} (and
          winner: "You took case #{case}."   # {loser}, {loser_name}) are known
          losers: "already taken by {winner_name}"
      - wait: 2h                    # the clock moves on (s, m, h, d; 1h30m) and due work
        expect: {r1: nothing}       # runs (every App part's tick()); what it sent is checked
      - at: 2026-11-26 15:30        # the clock set (Riyadh time). It starts on Monday
                                    # 2026-11-23 12:00 Riyadh, within working hours.
      - use: asks for a researcher  # a snippet (_snippets.yaml); its {parameters} are the
        who: b1                     # other keys; checks written here are added to its
        case: case                  # last step's

Captured values are used as {name} in any later string (an unknown {name} is an error).
Parties not named in `expect` are not checked, so a notice to staff added later (a message
a party did not ask for) breaks no dialogue that does not look for it; `others: nothing`
is the strict form, and a dialogue can look for such a notice like any message.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot import encoder, profiles
from bot.app import assemble
from bot.config import Settings
from conversations import acknowledgment
from conversations.base import RIYADH, Event, FileRef, InboundEvent, Reply
from conversations.knowledge import Encoder
from conversations.profile import Profile, StaffGroup
from handlers.answers import Answers
from storage import models as m
from storage.db import Database
from tests.conftest import NOW

GROUP = "-1001234567890"
DIALOGUES = Path(__file__).parent / "desk_dialogues"
CAST = {"r1": ("researcher", "Noura Alotaibi"), "r2": ("researcher", "Sara Alharbi"),
        "admin": ("admin", "Huda")}
STEP_KEYS = {"in", "expect", "capture", "audit", "no_audit", "db", "xfail", "wait", "at", "use",
             "together", "race", "_at"}  # any other key of a step is who acts
CHECKS = ("race", "expect", "capture", "audit", "no_audit", "db")  # what a step checks
TRACE = bool(os.environ.get("WASL_DIALOGUE_TRACE"))  # print what every step sent
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
         "application/pdf": b"%PDF-1.4\n"}
MIMES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".pdf": "application/pdf"}


# -- the data ----------------------------------------------------------------------
class Loader(yaml.SafeLoader):
    """YAML where numbers and dates stay as they were typed (a mobile keeps its 0, a date
    is the text a person types); only true/false and null are read as such."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Loader.add_implicit_resolver(  # "yes", "no", "on" and "off" are words someone types
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader) if d]


@functools.cache
def _model() -> Encoder:
    return encoder.load()


@dataclass
class Dialogue:
    name: str
    steps: list[dict]
    people: dict[str, dict] = field(default_factory=dict)
    profile: dict = field(default_factory=dict)
    lang: str = "ar"
    xfail: str | None = None
    about: str = ""
    source: str = ""
    never: dict[str, list[str]] = field(default_factory=dict)
    answers: bool = False  # the bot answers questions itself (with the bundled model)


def load_dialogues(folder: Path = DIALOGUES) -> list[Dialogue]:
    snippets = load_snippets(folder)
    found = []
    for path in sorted(folder.glob("[!_]*.yaml")):
        docs = read_yaml(path.read_text(encoding="utf-8"))
        for n, doc in enumerate(docs, 1):
            name = path.stem if len(docs) == 1 else f"{path.stem}_{n}"
            found.append(dialogue_from(doc, path.name, snippets, name))
    names = [d.name for d in found]
    assert len(names) == len(set(names)), f"two dialogues share a name: {names}"
    return found


def dialogue_from(doc: dict, source: str, snippets: dict[str, list[dict]],
                  name: str = "dialogue") -> Dialogue:
    unknown = set(doc) - {"name", "about", "xfail", "lang", "people", "profile", "steps", "never",
                          "answers"}
    assert not unknown, f"{source}: unknown keys {sorted(unknown)}"
    return Dialogue(doc.get("name") or name, expand(doc["steps"], snippets, source),
                    doc.get("people") or {}, doc.get("profile") or {}, doc.get("lang", "ar"),
                    doc.get("xfail"), doc.get("about", ""), source, doc.get("never") or {},
                    bool(doc.get("answers")))


def load_snippets(folder: Path = DIALOGUES) -> dict[str, list[dict]]:
    snippets: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("_*.yaml")):
        for doc in read_yaml(path.read_text(encoding="utf-8")):
            snippets.update(doc)
    return snippets


def expand(steps: list[dict], snippets: dict[str, list[dict]], where: str,
           label: str = "step") -> list[dict]:
    """Snippets replaced by their steps, their parameters filled in (other {names} stay);
    each step knows where it was written (`_at`), for the messages."""
    out = []
    for n, step in enumerate(steps, 1):
        at = f"{label} {n}"
        if "use" not in step:
            out.append({**step, "_at": step.get("_at", at)})
            continue
        name = step["use"]
        assert name in snippets, f"{where}: no snippet {name!r} (have {sorted(snippets)})"
        params = {k: str(v) for k, v in step.items() if k != "use" and k not in CHECKS}
        inner = expand(fill(snippets[name], params, strict=False), snippets, where,
                       f"{at} ({name!r}, its step")
        inner = [{**s, "_at": s["_at"] + ")"} for s in inner]
        out += inner[:-1] + [with_checks(inner[-1], step)]
    return out


def with_checks(last: dict, use: dict) -> dict:
    """A snippet's last step, with the checks written on the `use` step added to its own."""
    last = dict(last)
    for key in CHECKS:
        if key not in use:
            continue
        if key in ("expect", "capture"):
            merged = dict(last.get(key) or {})
            for inbox, wanted in use[key].items():
                old = merged.get(inbox)
                if key == "expect" and old is not None:
                    wanted = (old if isinstance(old, list) else [old]) + (
                        wanted if isinstance(wanted, list) else [wanted])
                merged[inbox] = wanted
            last[key] = merged
        else:
            last[key] = (last.get(key) or []) + use[key]
    return last


NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(value: Any, names: dict[str, str], strict: bool = True) -> Any:
    """{name} replaced everywhere (keys too); with `strict`, an unknown name is an error."""
    if isinstance(value, str):
        def one(match: re.Match) -> str:
            if match.group(1) in names:
                return names[match.group(1)]
            if strict:
                raise AssertionError(f"{{{match.group(1)}}} is not known yet (captured: "
                                     f"{sorted(names)})")
            return match.group(0)
        return NAME.sub(one, value)
    if isinstance(value, list):
        return [fill(v, names, strict) for v in value]
    if isinstance(value, dict):
        return {fill(k, names, strict): fill(v, names, strict) for k, v in value.items()}
    return value


def duration(text: str) -> timedelta:
    parts = re.findall(r"(\d+)\s*([smhd])", str(text))
    assert parts and "".join(n + u for n, u in parts) == re.sub(r"\s", "", str(text)), \
        f"a duration is like 30m, 2h, 1d or 1h30m: {text!r}"
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())


# -- the room ----------------------------------------------------------------------
@dataclass
class Person:
    alias: str
    role: str  # beneficiary | researcher | admin
    lang: str
    channel: str = "telegram"
    name: str = ""

    @property
    def actor(self) -> str:
        return f"{self.channel}:{self.alias}"


@dataclass
class Got:
    """One message a chat received: to whom (an alias, or "group"), and its platform id."""

    inbox: str
    reply: Reply
    ref: str


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class DeskRoom:
    """Everyone in one process: `act` routes one event and returns what each chat got."""

    def __init__(self, app, clock: Clock, people: dict[str, Person]) -> None:
        self.app, self.clock, self.people = app, clock, people
        self.seen: list[Got] = []  # everything delivered so far, in order
        self.documents: dict[int, str] = {}  # the name of each document sent, by id
        self._refs = 0

    @classmethod
    async def open(cls, database: Database, bakkah: Profile, translations: dict,
                   dialogue: Dialogue) -> DeskRoom:
        people = {alias: Person(alias, role, dialogue.lang, name=name)
                  for alias, (role, name) in CAST.items()}
        for alias, spec in dialogue.people.items():
            spec = spec or {}
            base = people.get(alias) or Person(alias, "beneficiary", dialogue.lang)
            people[alias] = Person(alias, spec.get("role", base.role), spec.get("lang", base.lang),
                                   spec.get("channel", base.channel), spec.get("name", base.name))
        for step in dialogue.steps:  # everyone who acts, declared or not
            for part in [step, *(step.get("together") or [])]:
                for alias in set(part) - STEP_KEYS:
                    people.setdefault(alias, Person(alias, "beneficiary", dialogue.lang))
        clock = Clock()
        # the profile decides whether staff are told of new work (the clock is the dialogue's)
        profile = profile_for(bakkah, dialogue.profile)
        answers = Answers(profile, _model()) if dialogue.answers else None
        app = assemble(Settings(desk_notices=None), profile, database, translations, clock,
                       answers)
        async with database.unit_of_work() as uow:
            for person in people.values():
                if person.role != "beneficiary":
                    await uow.desk.add_staff(person.channel, person.alias, person.name, person.role,
                                        clock.now)
        async with database.session() as s:  # the desk's language, where it is stored
            if hasattr(m.Staff, "language"):
                for person in people.values():
                    if person.role != "beneficiary":
                        row = (await s.execute(select(m.Staff).where(
                            m.Staff.sender_id == person.alias))).scalar_one()
                        row.language = person.lang
                await s.commit()
        return cls(app, clock, people)

    # -- acting -----------------------------------------------------------------------
    async def act(self, alias: str, what: Any, where: str | None) -> list[Got]:
        await self.app.router.handle(await self.inbound(alias, what, where))
        return await self.deliver()

    async def together(self, acts: list[tuple[str, Any, str | None]]) -> list[Got]:
        """Several events at the same moment (two researchers pressing one button): handled
        concurrently, as two webhook calls would be."""
        events = [await self.inbound(*act) for act in acts]
        await asyncio.gather(*(self.app.router.handle(e) for e in events))
        return await self.deliver()

    async def inbound(self, alias: str, what: Any, where: str | None) -> InboundEvent:
        person = self.people[alias]
        chat, thread, reply_to = alias, None, None
        place = (where or "private").split()
        if place[0] in ("group", "topic", "reply"):
            chat = GROUP
        if place[0] == "topic":
            thread = await self.topic_of(int(place[1]))
        elif place[0] == "reply":
            reply_to = self.latest_about(int(place[1]))
        elif place[0] not in ("private", "group"):
            raise AssertionError(f"`in` is private, group, topic N or reply N: {where!r}")
        event, pressed_on = self.event(what, self.inbox_of(place, alias))
        reply_to = pressed_on or reply_to
        return InboundEvent(person.channel, alias, chat, event, language_hint=person.lang,
                            thread_id=thread, reply_to=reply_to)

    def event(self, what: Any, offered: list[Got]) -> tuple[Event, str | None]:
        """The event, and the message whose button was pressed (if it was offered)."""
        if isinstance(what, str):
            return Event("text", text=what), None
        assert isinstance(what, dict) and len(what) == 1, f"one thing at a time: {what!r}"
        kind, value = next(iter(what.items()))
        if kind == "says":
            return Event("text", text=str(value)), None
        if kind == "contact":
            return Event("contact", contact=str(value)), None
        if kind == "file":
            return Event("file", file=make_file(value)), None
        assert kind == "press", f"an action is text, says, press, file or contact: {what!r}"
        if isinstance(value, dict) and "label" in value:
            for got in reversed(offered):
                for choice in got.reply.choices:
                    if choice.label == value["label"]:
                        return Event("choice", choice=choice.id), got.ref
            labels = [[c.label for c in g.reply.choices] for g in offered if g.reply.choices]
            raise AssertionError(f"no button {value['label']!r} was offered here: {labels}")
        choice = str(value["id"] if isinstance(value, dict) else value)
        on = next((g.ref for g in reversed(offered) if choice in [c.id for c in g.reply.choices]),
                  None)
        return Event("choice", choice=choice), on

    def inbox_of(self, place: list[str], alias: str) -> list[Got]:
        if place[0] == "private":
            return [g for g in self.seen if g.inbox == alias]
        if place[0] == "group":
            return [g for g in self.seen if g.inbox == "group"]
        case = int(place[1])
        return [g for g in self.seen if g.inbox == "group" and g.reply.case_id == case]

    def latest_about(self, case: int) -> str:
        refs = [g.ref for g in self.seen if g.inbox == "group" and g.reply.case_id == case]
        assert refs, f"the staff group got no message about case #{case}"
        return refs[-1]

    async def topic_of(self, case: int) -> str:
        async with self.app.db.session() as s:
            row = await s.get(m.Case, case)
        assert row is not None and row.topic_id, f"case #{case} has no topic in the staff group"
        return row.topic_id

    async def wait(self, until: datetime) -> list[Got]:
        """The clock moves on, and every part of the app with due work (a `tick`: survey
        reminders and expiries, and whatever else is added) does it."""
        assert until >= self.clock.now, "the clock only moves forward"
        self.clock.now = until
        for part in vars(self.app).values():
            if callable(getattr(part, "tick", None)):
                await part.tick()
        return await self.deliver()

    async def deliver(self) -> list[Got]:
        """Everything the outbox has for every channel, as the platforms would get it; the
        staff group's topics are created as Telegram does (one per new case)."""
        got: list[Got] = []
        group = self.app.profile.staff_group

        async def send(chat_id: str, reply: Reply) -> str:
            self._refs += 1
            ref = str(self._refs)
            inbox = "group" if chat_id == GROUP else chat_id  # (a private chat is its alias)
            if inbox == "group" and reply.open_topic and reply.case_id and group and group.topics:
                async with self.app.db.unit_of_work() as uow:
                    await uow.desk.set_topic(reply.case_id, f"topic-{reply.case_id}")
            if reply.document_id:
                async with self.app.db.session() as s:
                    doc = await s.get(m.Document, reply.document_id)
                self.documents[reply.document_id] = doc.name if doc else "?"
            got.append(Got(inbox, reply, ref))
            return ref

        for channel in sorted({p.channel for p in self.people.values()} | {"telegram"}):
            await self.app.outbox.deliver(channel, send)
        self.seen += got
        return got

    async def audit_after(self, last_id: int) -> list[m.AuditEntry]:
        async with self.app.db.session() as s:
            return list((await s.execute(select(m.AuditEntry).where(
                m.AuditEntry.id > last_id).order_by(m.AuditEntry.id))).scalars())

    async def last_audit_id(self) -> int:
        async with self.app.db.session() as s:
            return (await s.execute(select(func.max(m.AuditEntry.id)))).scalar() or 0


def profile_for(bakkah: Profile, changes: dict) -> Profile:
    """The bakkah profile with a staff group (topics on), and the dialogue's changes to its
    top-level keys (validated as the shipped file is)."""
    if not changes:
        return bakkah.model_copy(update={"staff_group": StaffGroup(telegram_chat_id=int(GROUP))})
    data = yaml.safe_load(profiles.resolve(bakkah.key).read_text(encoding="utf-8"))
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    return Profile.model_validate({**data, "staff_group": {"telegram_chat_id": int(GROUP)},
                                   **changes})


def make_file(spec: Any) -> FileRef:
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = spec["name"]
    mime = spec.get("mime") or MIMES.get(Path(name).suffix.lower(), "application/octet-stream")
    content = MAGIC.get(mime, b"") + name.encode() * 50
    return FileRef(name, mime, len(content), hashlib.sha256(content).hexdigest(), content)


# -- playing a dialogue ------------------------------------------------------------
async def play(room: DeskRoom, dialogue: Dialogue) -> None:
    """Each step in turn; a step marked xfail that fails ends the test as expected."""
    names: dict[str, str] = {}
    marked_and_passed = []
    for step in dialogue.steps:
        where = f"{dialogue.source} {step['_at']}: {short(step)}"
        failed = None
        try:
            got = await one_step(room, step, names, where)
            never(dialogue.never, got, names, where)
        except AssertionError as exc:
            failed = str(exc)
        if failed is not None:
            if step.get("xfail"):
                pytest.xfail(f"{step['_at']}: {step['xfail']} ({failed.splitlines()[0]})")
            pytest.fail(failed, pytrace=False)  # the step and what was sent say it all
        if step.get("xfail"):
            marked_and_passed.append(f"{step['_at']} ({step['xfail']})")
    if marked_and_passed:
        pytest.fail("marked xfail but passed, remove the mark: " + "; ".join(marked_and_passed),
                    pytrace=False)


def never(banned: dict[str, Any], got: list[Got], names: dict[str, str], where: str) -> None:
    """The dialogue's `never`: words a party must not get, whatever the step."""
    for alias, words in fill(banned, names).items():
        for word in [words] if isinstance(words, str) else words:
            for g in got:
                assert g.inbox != alias or word not in g.reply.text, (
                    f"{alias} must never get {word!r}, but did at {where}\n{transcript(got)}")


def short(step: dict) -> str:
    shown = {k: v for k, v in step.items() if k not in ("expect", "audit", "no_audit", "db",
                                                         "xfail", "race", "_at")}
    return yaml.safe_dump(shown, allow_unicode=True, default_flow_style=True, width=200).strip()


async def one_step(room: DeskRoom, raw: dict, names: dict[str, str], where: str) -> list[Got]:
    """Act, then check; what the step checks is filled in after its race is decided."""
    kept = (*CHECKS, "xfail", "_at")
    step = {**fill({k: v for k, v in raw.items() if k not in kept}, names),
            **{k: v for k, v in raw.items() if k in kept}}
    audited = "audit" in step or "no_audit" in step
    before = await room.last_audit_id() if audited else 0
    got = await act(room, step)
    where += "\n" + transcript(got)
    if TRACE:
        print(f"\n{where}")
    if "race" in step:
        race(room, step["race"], got, names, where)
    step.update(fill({k: v for k, v in step.items() if k in CHECKS and k != "race"}, names))
    for inbox, wanted in (step.get("expect") or {}).items():
        check_inbox(room, inbox, wanted, got, where, step.get("expect") or {})
    for var, how in (step.get("capture") or {}).items():
        names[var] = capture(how, got, actor_of(step), where)
    if audited:
        check_audit(room, await room.audit_after(before), step, where)
    for wanted in step.get("db") or []:
        await check_db(room, wanted, where)
    return got


def actor_of(step: dict) -> str | None:
    actors = set(step) - STEP_KEYS
    assert len(actors) <= 1, f"one actor a step, not {sorted(actors)}"
    return next(iter(actors), None)


async def act(room: DeskRoom, step: dict) -> list[Got]:
    """What the step does: someone acts, several at once, or the clock moves."""
    actor = actor_of(step)
    if actor is not None:
        return await room.act(actor, step[actor], step.get("in"))
    if "together" in step:
        acts = [(who, part[who], part.get("in")) for part in step["together"]
                for who in set(part) - {"in"}]
        return await room.together(acts)
    if "wait" in step:
        return await room.wait(room.clock.now + duration(step["wait"]))
    if "at" in step:
        at = datetime.fromisoformat(str(step["at"]))
        return await room.wait(at if at.tzinfo else at.replace(tzinfo=RIYADH))
    return []


def check_audit(room: DeskRoom, entries: list[m.AuditEntry], step: dict, where: str) -> None:
    for wanted in step.get("audit") or []:
        assert any(audit_matches(room, e, wanted) for e in entries), (
            f"no audit entry like {wanted} at {where}\nwritten: {audit_lines(entries)}")
    for unwanted in step.get("no_audit") or []:
        assert not any(audit_matches(room, e, unwanted) for e in entries), (
            f"an audit entry like {unwanted} at {where}\nwritten: {audit_lines(entries)}")


def race(room: DeskRoom, spec: dict, got: list[Got], names: dict[str, str], where: str) -> None:
    """Exactly one of `among` gets what `winner` says and every other what `losers` says;
    {winner} and {winner_name} (and {loser}, {loser_name} for two) are known afterwards."""
    among = [str(a) for a in fill(spec["among"], names)]

    def passes(alias: str, wanted: Any) -> bool:
        try:
            check_inbox(room, alias, wanted, got, where, {})
        except AssertionError:
            return False
        return True

    winners = [a for a in among if passes(a, fill(spec["winner"], names))]
    assert len(winners) == 1, f"winners {winners} among {among}, not exactly one, at {where}"
    names.update(winner=winners[0], winner_name=room.people[winners[0]].name)
    losers = [a for a in among if a != winners[0]]
    if len(losers) == 1:
        names.update(loser=losers[0], loser_name=room.people[losers[0]].name)
    for alias in losers:
        check_inbox(room, alias, fill(spec.get("losers", []), names), got, where, {})


def transcript(got: list[Got]) -> str:
    lines = []
    for g in got:
        extra = f" [buttons: {' | '.join(c.label for c in g.reply.choices)}]" if g.reply.choices else ""
        extra += f" [document {g.reply.document_id}]" if g.reply.document_id else ""
        extra += f" [case {g.reply.case_id}]" if g.reply.case_id and g.inbox == "group" else ""
        lines.append(f"  → {g.inbox}: {g.reply.text!r}{extra}")
    return "what was sent:\n" + ("\n".join(lines) or "  (nothing)")


def inbox_messages(inbox: str, got: list[Got]) -> list[Reply]:
    if inbox.startswith("topic "):
        case = int(inbox.split()[1])
        return [g.reply for g in got if g.inbox == "group" and g.reply.case_id == case]
    return [g.reply for g in got if g.inbox == inbox]


def check_inbox(room: DeskRoom, inbox: str, wanted: Any, got: list[Got], where: str,
                expect: dict) -> None:
    if inbox == "others":
        assert wanted == "nothing", f"`others` can only be `nothing` at {where}"
        named = {k for k in expect if k != "others"}
        topics = {int(k.split()[1]) for k in named if k.startswith("topic ")}
        stray = [g for g in got if g.inbox not in named
                 and not (g.inbox == "group" and g.reply.case_id in topics)]
        assert not stray, f"someone else was sent something at {where}"
        return
    if inbox not in room.people and inbox != "group" and not inbox.startswith("topic "):
        raise AssertionError(f"no party {inbox!r} at {where}")
    replies = inbox_messages(inbox, got)
    if wanted == "nothing" or wanted is None:
        assert not replies, f"{inbox} was sent something at {where}"
        return
    checks = wanted if isinstance(wanted, list) else [wanted]
    for check in checks:
        items = check.items() if isinstance(check, dict) else [("contains", check)]
        for kind, value in items:
            check_one(room, inbox, kind, value, replies, where)


def check_one(room: DeskRoom, inbox: str, kind: str, value: Any, replies: list[Reply],
              where: str) -> None:
    text = "\n".join(r.text for r in replies)
    values = value if isinstance(value, list) and kind in ("contains", "lacks", "matches") else [value]
    if kind == "contains":
        for v in values:
            assert str(v) in text, f"{inbox} did not get {v!r} at {where}"
    elif kind == "lacks":
        for v in values:
            assert str(v) not in text, f"{inbox} got {v!r} at {where}"
    elif kind == "matches":
        for v in values:
            assert re.search(str(v), text), f"{inbox} got nothing matching {v!r} at {where}"
    elif kind == "exactly":
        assert text == str(value), f"{inbox} got {text!r}, not {value!r}, at {where}"
    elif kind == "count":
        assert len(replies) == int(value), f"{inbox} got {len(replies)} messages at {where}"
    elif kind in ("buttons", "button_ids"):
        offered = [[c.label if kind == "buttons" else c.id for c in r.choices] for r in replies]
        if value == []:
            assert not any(offered), f"{inbox} was offered buttons {offered} at {where}"
        else:
            assert [str(v) for v in value] in offered, (
                f"{inbox} was offered {offered}, not {value}, at {where}")
    elif kind == "document":
        docs = [r.document_id for r in replies if r.document_id]
        if value is False:
            assert not docs, f"{inbox} was sent a document at {where}"
        elif value is True:
            assert docs, f"{inbox} was sent no document at {where}"
        else:
            assert str(value) in room_doc_names(room, docs), (
                f"{inbox} was sent no document {value!r} at {where}")
    else:
        raise AssertionError(f"unknown check {kind!r} at {where}")


def room_doc_names(room: DeskRoom, ids: list[int]) -> list[str]:
    return [room.documents[i] for i in ids if i in room.documents]


def capture(how: Any, got: list[Got], actor: str | None, where: str) -> str:
    pattern, source = (how["re"], how.get("from")) if isinstance(how, dict) else (how, None)
    ordered = [g for g in got if g.inbox == actor] + [g for g in got if g.inbox != actor]
    for g in ordered:
        if source is not None and g.inbox != source:
            continue
        found = re.search(pattern, g.reply.text)
        if found:
            return found.group(1) if found.groups() else found.group(0)
    raise AssertionError(f"nothing to capture with {pattern!r} at {where}")


AUDIT_FIELDS = {  # a check's key: what it compares in an entry, and how the data says it
    "action": lambda e, v: e.action == str(v),
    "allowed": lambda e, v: e.allowed is bool(v),
    "case": lambda e, v: e.case_id == int(v),
    "request": lambda e, v: e.request_number == str(v),
    "detail": lambda e, v: str(v) in (e.detail or ""),
}


def audit_matches(room: DeskRoom, entry: m.AuditEntry, wanted: dict) -> bool:
    for key, value in wanted.items():
        if key == "actor":
            person = room.people.get(str(value))
            if entry.actor != (person.actor if person else str(value)):
                return False
            continue
        assert key in AUDIT_FIELDS, f"an audit check has actor or {sorted(AUDIT_FIELDS)}: {key!r}"
        if not AUDIT_FIELDS[key](entry, value):
            return False
    return True


def audit_lines(entries: list[m.AuditEntry]) -> str:
    return "; ".join(f"{e.actor} {e.action} {'allowed' if e.allowed else 'refused'}"
                     f"{f' #{e.case_id}' if e.case_id else ''}"
                     f"{f' {e.request_number}' if e.request_number else ''}"
                     f"{f' ({e.detail})' if e.detail else ''}" for e in entries) or "(none)"


async def check_db(room: DeskRoom, wanted: dict, where: str) -> None:
    async with room.app.db.session() as s:
        if "case" in wanted:
            row = await s.get(m.Case, int(wanted["case"]))
            assert row is not None, f"no case {wanted['case']} at {where}"
            if "status" in wanted:
                assert row.status == wanted["status"], (
                    f"case #{row.id} is {row.status}, not {wanted['status']}, at {where}")
            if "holder" in wanted:
                holder = None
                if row.claimed_by is not None:
                    staff = await s.get(m.Staff, row.claimed_by)
                    holder = staff.sender_id if staff else "?"
                expected = None if wanted["holder"] in (None, "none") else wanted["holder"]
                assert holder == expected, (
                    f"case #{row.id} is held by {holder}, not {expected}, at {where}")
        elif "request" in wanted:
            row = (await s.execute(select(m.Request).where(
                m.Request.number == wanted["request"]))).scalar_one_or_none()
            assert row is not None, f"no request {wanted['request']} at {where}"
            if "status" in wanted:
                assert row.status == wanted["status"], (
                    f"{row.number} is {row.status}, not {wanted['status']}, at {where}")
            for key, value in (wanted.get("answers") or {}).items():
                assert row.fields.get(key) == value, (
                    f"{row.number}'s {key} is {row.fields.get(key)!r}, not {value!r}, at {where}")
            if "signed" in wanted:  # the acknowledgment's version, and its hash still matching
                ack = (await s.execute(select(m.Acknowledgment).where(
                    m.Acknowledgment.request_id == row.id))).scalar_one()
                intact = ack.sha256 == acknowledgment.digest(
                    row.number, row.service, row.fields, ack.text_version, ack.signature, ack.at)
                assert (ack.text_version, intact) == (wanted["signed"], True), (
                    f"{row.number} is signed {ack.text_version} (hash matches: {intact}), "
                    f"not {wanted['signed']}, at {where}")
        else:
            raise AssertionError(f"a db check names a case or a request: {wanted} at {where}")


def params() -> Iterator:
    """The dialogues as pytest parameters, xfail ones marked (strict: a fix shows)."""
    for d in load_dialogues():
        marks = [pytest.mark.xfail(reason=d.xfail, strict=True)] if d.xfail else []
        yield pytest.param(d, id=d.name, marks=marks)
