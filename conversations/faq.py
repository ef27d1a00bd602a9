"""Answers before a human: the bot answers a beneficiary's question itself when it is
sure enough, and asks whether that helped; otherwise it offers a social researcher, to
whom the question goes with the conversation. Pure: the search (conversations/knowledge)
is computation, given in the context. Diagram: docs/conversations/faq.mmd.
"""

from __future__ import annotations

import re
from dataclasses import replace

from conversations import intake, render, review, survey
from conversations.base import Choice, Context, Event, Reply, match_choice
from conversations.knowledge import Match, Topic
from conversations.profile import FieldKind, Service
from conversations.state import Asked, CountAnswer, State, Step, Transition
from conversations.text import ascii_digits, clean, fold, has_letter

HELPED = "faq_yes"
START = "start:"  # + a service key: start that request from an answer
DOCUMENTS = "docs:"  # + a service key: the documents of the service asked back about

# How a question starts, after folding (a question mark, or one of these first).
_ASKING = re.compile(
    r"^(كيف|متي|متى|وين|اين|فين|ليش|لماذا|ليه|هل|وش|ايش|اش|شو|ماذا|ما هي|ما هو|ماهي|ماهو|"
    r"كم|من وين|مين|شلون|ابي اعرف|ابغى اعرف|ابغي اعرف|ودي اعرف|اريد ان اعرف|اريد معرفه|"
    r"ممكن اعرف|ممكن سؤال|سؤال|استفسار|عندي سؤال|عندي استفسار|"
    r"what|how|when|where|why|which|who|can you|can i|could you|do you|does|is there|"
    r"are there)\b")  # not «ما» alone (ما عندي...: a negation) nor "is", "may", "will" (names)


def clearly_question(event: Event) -> bool:
    """A question mark, or a question's first words ("وش", "كيف", "متى", "what"...)."""
    if event.kind != "text" or not has_letter(event.text):
        return False
    text = clean(event.text)
    return text.endswith(("?", "؟")) or bool(_ASKING.match(fold(text)))


def consult(state: State, event: Event, ctx: Context) -> tuple[Match, list[Reply]] | None:
    """What the bot would say to a question, if it has anything to say (None without
    knowledge, or when the best topic is not sure enough to answer)."""
    if ctx.knowledge is None or event.kind != "text" or not has_letter(event.text):
        return None
    found = ctx.knowledge.search(clean(event.text)[:500])
    if not found.confident or found.topic is None:
        return None
    if found.topic.lang and found.topic.lang != state.lang:  # taught in the other language
        return None
    return found, reply_to(found.topic, state, ctx)


def reply_to(topic: Topic, state: State, ctx: Context) -> list[Reply]:
    """The reply for a topic in the beneficiary's language (before "did this help?")."""
    _ = ctx.tr(state.lang).gettext
    if topic.kind == "smalltalk":
        return [Reply(_("Wa alaykum as-salam, welcome.") if topic.key == "greeting"
                      else _("You are welcome; it is our pleasure to serve you."))]
    if topic.kind == "out_of_scope" and topic.key.startswith("faq."):  # the profile declines
        return [Reply(_answer(topic.key, state, ctx).text)]
    if topic.kind == "out_of_scope":
        return [Reply(_out_of_scope(topic, state, ctx))]
    if topic.kind == "ask_back":
        if len(ctx.profile.services) == 1:
            return [_answer(f"documents_for.{ctx.profile.services[0].key}", state, ctx)]
        return [Reply(_("Which service do you mean?"),
                      tuple(Choice(f"{DOCUMENTS}{s.key}", s.label.get(state.lang))
                            for s in ctx.profile.services))]
    return [_answer(topic.key, state, ctx, topic)]


def _answer(key: str, state: State, ctx: Context, topic: Topic | None = None) -> Reply:
    _ = ctx.tr(state.lang).gettext
    head, _dot, rest = key.partition(".")
    service = ctx.profile.service(rest) if rest else None
    match head:
        case "services":
            text = _services(state, ctx) + "\n\n" + _("To request one, choose \"New support "
                                                     "request\" from the menu.")
        case "apply":
            text = _(
                "To apply: choose \"New support request\" from the menu, then the service. "
                "The bot asks its questions one by one (you can stop and carry on later) and "
                "asks for photos of the documents. At the end you review your answers, confirm "
                "that they are correct, and the request goes to {body}."
            ).format(body=review.body(state.lang, ctx)) + "\n\n" + _services(state, ctx)
        case "documents_for" if service:
            text = _documents(service, state, ctx)
        case "service" if service:
            about = f": {service.description.get(state.lang)}" if service.description else ""
            text = f"{service.label.get(state.lang)}{about}\n\n" + _documents(service, state, ctx)
        case "decision":
            text = " ".join([review.studies(state.lang, ctx), _(
                "You are told here, and you can follow it under \"Status of my requests\".")])
        case "hours" | "contact":
            text = render.contact(state, ctx)
        case "status":
            text = _("Choose \"Status of my requests\" from the menu, or send /status at any "
                     "time: each request is shown with its number, its status and when to "
                     "expect an answer. When it changes, you are told here.")
        case "privacy":
            notice = ctx.profile.privacy.notice
            text = (notice.get(state.lang) if notice else _(
                "What happens to your data:\n"
                "• What we collect: only what you give in your request ({collects}).\n"
                "• Why: to study your request and serve you, and for nothing else.\n"
                "• Who sees it: the association's social researchers and {body}; "
                "it is not shared with anyone else unless the law requires it.\n"
                "• Health and financial answers are asked only with a consent of their own, "
                "and are not kept in the conversation log.").format(
                    body=review.body(state.lang, ctx),
                    collects=render.collected(state.lang, ctx))) + "\n\n" + _(
                "You can see, correct or delete your data yourself, at any time: «🔒 My data "
                "and privacy» in the menu, or /mydata and /delete.")
        case "feedback":
            text = _("Choose \"Suggestion or complaint\" from the menu: you receive a ticket "
                     "number, and the association's staff study it. Complaints are kept "
                     "confidential.")
        case "faq":
            entry = next((e for e in ctx.profile.faq if e.key == rest), None)
            text = entry.answer.get(state.lang) if entry else ""
        case _:  # a taught answer carries its own text
            text = topic.answer if topic and topic.answer else ""
    return Reply(text, answered=key)


def _services(state: State, ctx: Context) -> str:
    _ = ctx.tr(state.lang).gettext
    lead = _("{association} offers:").format(association=ctx.profile.association.get(state.lang))
    return "\n".join([lead, *render.service_lines(state, ctx)])


def _documents(service: Service, state: State, ctx: Context) -> str:
    """The information and the documents a service asks for, from its fields."""
    _ = ctx.tr(state.lang).gettext
    asked = [f for f in service.fields if f.kind is not FieldKind.FILE and not f.when]
    files = [f for f in service.fields if f.kind is FieldKind.FILE]
    lines = [_("For \"{service}\" we ask for:").format(service=service.label.get(state.lang))]
    lines += [f"• {f.label.get(state.lang)}" for f in asked]
    if files:
        lines += ["", _("And these documents (a photo or a PDF file), valid on the day the "
                       "request is submitted:")]
        lines += [f"• {f.label.get(state.lang)}" for f in files]
    return "\n".join(lines)


def _out_of_scope(topic: Topic, state: State, ctx: Context) -> str:
    _ = ctx.tr(state.lang).gettext
    association = ctx.profile.association.get(state.lang)
    lead = (_("{association} does not handle government programmes (such as the Citizen "
              "Account or social security); the programme itself can answer this.")
            if topic.key == "government" else
            _("We cannot answer this here: {association} gives no medical, legal or other "
              "professional advice."))
    return lead.format(association=association) + "\n\n" + _services(state, ctx)


def check(state: State, ctx: Context, asked: Asked) -> Reply:
    """Did this answer help? Yes, a researcher, or the request it leads to."""
    _ = ctx.tr(state.lang).gettext
    service = ctx.profile.service(asked.service) if asked.service and not state.draft else None
    start = (Choice(f"{START}{service.key}", _("📝 Request: {service}").format(
        service=service.label.get(state.lang))),) if service else ()
    papers = ()  # after how to apply: each service's documents, a press away
    if asked.topic == "apply" and len(ctx.profile.services) > 1:
        papers = tuple(Choice(f"{DOCUMENTS}{s.key}", _("📄 Documents: {service}").format(
            service=s.label.get(state.lang))) for s in ctx.profile.services)
    return Reply(_("Did this answer your question?"),
                 (Choice(HELPED, _("👍 Yes, thank you")),
                  Choice("human", _("🙋 No, talk to a researcher")), *start, *papers),
                 numbered=2 + len(start))  # a number typed answers the question itself


def not_found(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    return Reply(_("I could not find an answer to this in what the association has written. "
                   "A social researcher can answer it: shall I pass your question on?"),
                 (Choice("human", _("🙋 Yes, to a social researcher")),
                  Choice("back", _("↩ Back to the menu"))))


def answered(state: State, event: Event, ctx: Context, again: Reply | None = None,
             ) -> Transition | None:
    """A question answered where the beneficiary is; `again` is the question to ask once
    more after it (mid-request). None: nothing sure enough to say."""
    found = consult(state, event, ctx)
    if found is None:
        return None
    match, replies = found
    topic = match.topic
    assert topic is not None
    if topic.kind in ("smalltalk", "out_of_scope"):
        follow = again or render.menu(state, ctx)
        state.asked = None
        if again is None:
            state.step = Step.MENU
        return Transition(state, [*replies, follow])
    if topic.kind == "ask_back" and replies[0].answered is None:
        state.asked = Asked(choosing=True)
        if again is None:
            state.step = Step.ANSWERED
        return Transition(state, [*replies, *([again] if again else [])])
    key = replies[0].answered
    state.asked = Asked(topic=key, service=topic.service)
    if again is None:
        state.step = Step.ANSWERED
    asked = check(state, ctx, state.asked)
    if again is not None:  # its buttons stay under the question asked again
        asked = replace(asked, lasting=True)
    return Transition(state, [*replies, asked, *([again] if again else [])],
                      [CountAnswer(key, "answered")])


def unanswered(state: State, ctx: Context, again: Reply | None = None) -> Transition:
    """Nothing sure enough: a researcher is offered, never a guess (mid-request, the
    question asked again says how to reach one)."""
    state.asked = Asked()
    if again is None:
        state.step = Step.ANSWERED
        return Transition(state, [not_found(state, ctx)], [CountAnswer(None, "unanswered")])
    _ = ctx.tr(state.lang).gettext
    sorry = Reply(_("I could not find an answer to this in what the association has written; "
                    "a social researcher can answer it (\"Talk to a social researcher\"). "
                    "Meanwhile, your request stays where it was:"))
    return Transition(state, [sorry, again], [CountAnswer(None, "unanswered")])


def on_answered(state: State, event: Event, ctx: Context) -> Transition | None:
    """After an answer or an offer: it helped, a researcher, the request, or something
    else (None: the menu takes it)."""
    asked = state.asked or Asked()
    offered = (*check(state, ctx, asked).choices, *not_found(state, ctx).choices,
               *(Choice(f"{DOCUMENTS}{s.key}", s.label.get(state.lang))
                 for s in ctx.profile.services))
    shown = shown_after(state, ctx, asked)
    picked = match_choice(event, shown.choices) or match_choice(event, offered, numbered=False)
    if picked is None and not asked.choosing:  # "نعم" / "لا", typed
        yes, no = (HELPED, "human") if asked.topic else ("human", "back")
        picked = intake.yes_no(state, event, ctx, yes, no)
    if picked is None and event.kind == "text" and ascii_digits(event.text.strip()).isdigit():
        _ = ctx.tr(state.lang).gettext  # a number none of the choices has: asked again
        sorry = _("Sorry, I did not understand. Please choose one of the options.")
        return Transition(state, [replace(shown, text=f"{sorry}\n\n{shown.text}")])
    return chosen(state, picked, ctx)


def from_answer(choice: str) -> bool:
    """A button of an answer's message (mid-request, still pressable after the question
    asked again)."""
    return choice in (HELPED, "human") or choice.startswith((START, DOCUMENTS))


def shown_after(state: State, ctx: Context, asked: Asked) -> Reply:
    """The question the beneficiary is answering after an answer: did it help, which
    service, or shall a researcher have it."""
    if asked.choosing:
        return reply_to(Topic("documents", "ask_back", ()), state, ctx)[0]
    return check(state, ctx, asked) if asked.topic else not_found(state, ctx)


def chosen(state: State, picked: str | None, ctx: Context, again: Reply | None = None,
           ) -> Transition | None:
    """What a press after an answer does: at the menu, or mid-request (`again`: the
    question to ask once more)."""
    asked, _ = state.asked or Asked(), ctx.tr(state.lang).gettext
    in_intake = again is not None
    if picked == HELPED:
        state.asked = None
        glad = Reply(_("Glad it helped."))
        if in_intake:
            return Transition(state, [glad, again],
                              [CountAnswer(asked.topic, "helpful")])
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx, glad.text)],
                          [CountAnswer(asked.topic, "helpful")])
    if picked == "human":
        state.asked = None
        tr = intake.escalate(state, "question" if asked.topic is None else "unhelpful", None)
        tr.actions.insert(0, CountAnswer(asked.topic, "escalated"))
        return tr
    if picked and picked.startswith(DOCUMENTS) and ctx.profile.service(picked[len(DOCUMENTS):]):
        key = f"documents_for.{picked[len(DOCUMENTS):]}"
        state.asked = Asked(topic=key, service=picked[len(DOCUMENTS):])
        helped = check(state, ctx, state.asked)
        return Transition(state, [_answer(key, state, ctx),
                                  replace(helped, lasting=again is not None),
                                  *([again] if again else [])], [CountAnswer(key, "answered")])
    if picked and picked.startswith(START) and ctx.profile.service(picked[len(START):]):
        state.asked = None
        if state.draft and state.draft.service != picked[len(START):]:
            state.step = Step.RESUME  # one request at a time: theirs first
            return Transition(state, [render.resume(state, ctx, intake.service_of(state, ctx))])
        if state.draft:  # the same request: on where it was
            return intake.ask(state, ctx)
        return intake.start(state, ctx, picked[len(START):])
    if picked == "back" and not in_intake:
        state.asked, state.step = None, Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    if picked == "feedback" and not in_intake:
        state.asked = None
        return survey.start_feedback(state, ctx)
    return None
