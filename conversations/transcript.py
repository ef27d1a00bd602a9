"""The conversation log in words.

What the log keeps (the `messages` table, copied into a case's transcript, and what a case
relays to its researcher) is the same in every language and never holds a withheld value:
the beneficiary's own words, a masked number, or one of these markers, alone on the line:

    [choice] KEY «LABEL»        a button pressed (or an option typed), with the label they saw
    [file] NAME (MIME, SIZE B)  a photo or a document
    [contact] NUMBER            a shared contact card (masked at a mobile question)
    [unsupported message]       a sticker, a voice note...
    [withheld: sensitive]       a health or financial answer (PDPL): not kept
    [request summary shown]     the summary, which repeats every answer, was shown
    [survey answer]             kept apart, so that an anonymous answer stays anonymous

Typed text that looks like a marker is kept with a backslash before it, so that nothing a
beneficiary types reads as something the bot recorded. `line` turns one stored text into
what staff read, in their language; any other text passes through unchanged.
"""

from __future__ import annotations

import re

from conversations import intake, render
from conversations.base import Choice, Context, Event
from conversations.fields import N_, short_type
from conversations.state import Draft, State

WITHHELD = "[withheld: sensitive]"
SUMMARY_SHOWN = "[request summary shown]"
SURVEY_ANSWER = "[survey answer]"
ANSWERS_SHOWN = "[answers shown for a correction]"
VOLUNTEER_ANSWER = "[volunteer sign-up answer]"
VOLUNTEER_SHOWN = "[volunteer details shown]"
UNSUPPORTED = "[unsupported message]"

_FIXED = {
    WITHHELD: N_("(a sensitive answer, about health or finances, is not kept in the log)"),
    SUMMARY_SHOWN: N_("(the summary of the request was shown for review)"),
    SURVEY_ANSWER: N_("(a survey answer, kept apart from the conversation)"),
    ANSWERS_SHOWN: N_("(a request's answers were shown to choose one to correct)"),
    VOLUNTEER_ANSWER: N_("(an answer to the volunteer sign-up, kept only with the sign-up)"),
    VOLUNTEER_SHOWN: N_("(the volunteer's details were shown to agree to them)"),
    UNSUPPORTED: N_("(a sticker, a voice note or another message the bot cannot read)"),
}
_CHOICE = re.compile(r"\[choice\] (?P<key>\S+)(?: «(?P<label>[^\n]*)»)?")
_FILE = re.compile(r"\[file\] (?P<name>[^\n]*) \((?P<mime>[^\s(),]+), (?P<size>\d+) B\)")
_VOICE = re.compile(r"\[voice\] (?P<name>[^\n]*) \((?P<mime>[^\s(),]+), (?P<size>\d+) B\)")
_CONTACT = re.compile(r"\[contact\] (?P<number>[^\n]+)")


def choice(key: str, label: str | None = None) -> str:
    """A pressed choice, with the label the beneficiary saw when it is known."""
    key = "_".join(key.split()) or "?"
    label = " ".join((label or "").split())
    return f"[choice] {key} «{label}»" if label else f"[choice] {key}"


def contact(number: str) -> str:
    return f"[contact] {' '.join(number.split())}"


def typed(text: str) -> str:
    """Typed text as it is; one that would read as a marker gets a backslash before it."""
    return "\\" + text if _marker(text.lstrip("\\")) else text


def said(event: Event, label: str | None = None) -> str:
    """How one event of a beneficiary is kept (`label`: of the choice they pressed)."""
    if event.kind == "choice":
        return choice(event.choice, label)
    if event.kind in ("file", "voice") and event.file is not None:
        name = " ".join(event.file.name.split()) or event.kind
        return f"[{event.kind}] {name} ({''.join(event.file.mime.split())}, {event.file.size} B)"
    if event.kind == "contact":
        return contact(event.contact)
    if event.kind == "other":
        return UNSUPPORTED
    return typed(event.text)


def line(text: str, lang: str, ctx: Context) -> str:
    """One stored log text as staff read it, in their language: what was pressed by its
    label, a file by its name, a withheld answer or a shown summary in words."""
    _ = ctx.tr(lang).gettext
    if text.startswith("\\") and _marker(text.lstrip("\\")):
        return text[1:]
    if text in _FIXED:
        return _(_FIXED[text])
    if found := _CHOICE.fullmatch(text):
        label = found["label"] or label_of(found["key"], lang, ctx)
        return _("Choice: {label}").format(label=label)
    if found := _FILE.fullmatch(text):
        size = max(1, round(int(found["size"]) / 1024))
        return _("📎 File: {name} ({type}, {size} KB)").format(
            name=found["name"], type=short_type(found["mime"]), size=size)
    if found := _VOICE.fullmatch(text):
        return _("🎤 Voice message ({size} KB)").format(
            size=max(1, round(int(found["size"]) / 1024)))
    if found := _CONTACT.fullmatch(text):
        return _("📱 Contact shared: {number}").format(number=found["number"])
    return text


def _marker(text: str) -> bool:
    return text in _FIXED or any(p.fullmatch(text) for p in (_CHOICE, _FILE, _VOICE, _CONTACT))


def label_of(key: str, lang: str, ctx: Context) -> str:
    """A choice's label from its key alone (an entry logged without it: older logs), in
    `lang`: a service, a question or an option of the profile, or one of the bot's own
    buttons; the key itself when none has it."""
    for service in ctx.profile.services:
        if service.key == key:
            return service.label.get(lang)
        for spec in service.fields:
            option = next((o for o in spec.options if o.key == key), None)
            if option is not None:
                return option.label.get(lang)
            if spec.key == key:
                return spec.label.get(lang)
    return next((c.label for c in own_choices(lang, ctx) if c.id == key), key)


def own_choices(lang: str, ctx: Context) -> list[Choice]:
    """The bot's own buttons, in `lang`, the menu's first."""
    service = ctx.profile.services[0]
    state = State(lang=lang, consented=True, info_for="-",
                  draft=Draft(service=service.key))
    optional = service.fields[0].model_copy(update={"required": False})
    replies = [render.menu(state, ctx), render.welcome(state, ctx), render.language_menu(state, ctx),
               render.summary(state, ctx, service, []), render.resume(state, ctx, service),
               render.sensitive_consent(state, ctx), render.offer_human(state, ctx, ""),
               render.info_offer(state, ctx)]
    return [c for reply in replies for c in reply.choices] + [
        *render.nav_choices(state, ctx, optional), intake.keep_choice(state, ctx)]
