"""Bad input from the hardening issue: junk in free text, absurd dates, numbers at number
questions taken as navigation. Dialogues through the pure flow, and the NUL-in-a-name case
through the real simulator on every configured database."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from bot import profiles
from bot.channels import console
from bot.channels.whatsapp import messages
from conversations import journey
from conversations.base import Choice
from conversations.fields import Invalid, validate_text
from conversations.profile import FieldSpec
from conversations.state import State, Step
from tests.e2e.sim import NAME, Simulator, wasl
from tests.unit.dialogue import run

BAKKAH = profiles.load("bakkah")
NAME_Q = ("full_name", "text")
PERSON = [NAME, "1234567897", "1449-01-01", "0501234567", "العزيزية", "4"]


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(BAKKAH)


def at_menu(lang: str = "ar") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


def started(ctx, *answers, lang: str = "ar"):
    """A food basket request in progress, with these answers given."""
    script = [({"choice": "new_request"}, {}), ({"choice": "food_basket"}, {"expects": NAME_Q})]
    script += [(a, {}) for a in answers]
    return run(script, ctx, at_menu(lang))


# 3. Free text: names need letters; control characters and invisible fillers are removed.

@pytest.mark.parametrize("junk", [
    "😀🙏🌹😀🙏🌹😀🙏", "١٢٣٤٥٦٧٨٩", "12345678", "\u3164" * 10, "\u115f\u1160" * 5,
    "\u200b" * 12, "\u200c\u200d\u200e\u200f\u2060\ufeff\u180e\uffa0" * 2, "\x00" * 9,
    "\x1b[31m\x1b[0m" * 3, ".,;:!?-_()*&^%$#@" * 2,
])
def test_a_name_without_letters_is_refused_and_asked_again(ctx, junk):
    state, world, replies = started(ctx)
    state, world, replies = run([(junk, {"expects": NAME_Q})], ctx, state, world)
    assert state.draft.answers == {} and not world.cases


def test_a_name_of_digits_says_what_is_wrong_in_english(ctx):
    state, world, _ = started(ctx, lang="en")
    run([("12345678", {"expects": NAME_Q, "contains": "in letters"}),
         ("😀🙏🌹😀🙏🌹😀🙏", {"expects": NAME_Q, "contains": "in letters"})], ctx, state, world)
    state, world, _ = started(ctx, lang="en")
    run([("\u3164\u3164\u3164", {"expects": NAME_Q, "contains": "did not receive an answer"})],
        ctx, state, world)


def test_control_characters_and_fillers_are_removed_from_what_is_stored_and_shown(ctx):
    dirty = "محمد\x00 عبدالله\x1b[31m \u3164أحمد\u200b\u2060 \x07الغامدي\x7f\u115f"
    state, world, _ = started(ctx, dirty)
    assert state.draft.answers["full_name"] == NAME
    state, world, replies = run([({"choice": "back"}, {"expects": NAME_Q})], ctx, state, world)
    current = replies[-1].text.split("\n")[-1]
    assert current.endswith(NAME) and not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u3164\u115f\u200b]",
                                                    replies[-1].text)


def test_earlier_answers_are_kept_after_a_refused_district(ctx):
    state, world, _ = started(ctx, *PERSON[:4])
    state, world, _ = run([("\u3164\u3164", {"expects": ("district", "text")}),
                           ("٤٥", {"expects": ("district", "text")}),
                           ("حي ٤٥", {"expects": ("family_size", "integer")})], ctx, state, world)
    assert state.draft.answers["full_name"] == NAME
    assert state.draft.answers["national_id"] == "1234567897"
    assert state.draft.answers["district"] == "حي 45"


def test_a_passport_number_may_be_digits_alone_but_not_symbols(ctx_for):
    ctx = ctx_for(profiles.load("alhuda"))
    spec = next(f for s in ctx.profile.services for f in s.fields if f.key == "passport_number")
    assert spec.rules.letters is False
    assert validate_text(spec, "١٢٣٤٥٦٧٨٩", ctx.today) == "123456789"
    assert validate_text(spec, "A1234567", ctx.today) == "A1234567"
    with pytest.raises(Invalid) as err:
        validate_text(spec, "😀🙏🌹😀🙏🌹", ctx.today)
    assert err.value.code == "text.letters_or_digits"


def test_the_letters_rule_is_for_text_fields_only():
    data = {"key": "f", "kind": "integer", "label": {"ar": "عدد"}, "rules": {"letters": False}}
    with pytest.raises(ValueError, match="letters"):
        FieldSpec.model_validate(data)


# 4. Dates: an ID expiry at most ten years ahead, any date in a sane range.

@pytest.mark.parametrize("typed", ["2150-01-01", "1/1/2150", "1/1/1490 هـ", "31/12/9999"])
def test_an_id_expiry_far_in_the_future_is_refused_in_plain_words(ctx, typed):
    state, world, _ = started(ctx, NAME, "1234567897", lang="en")
    run([(typed, {"expects": ("id_expiry", "date"), "contains": "at most 10 years"})],
        ctx, state, world)
    assert "id_expiry" not in state.draft.answers


def test_an_id_expiry_within_ten_years_is_taken(ctx):
    state, world, _ = started(ctx, NAME, "1234567897")
    run([("2036-11-01", {"expects": ("mobile", "phone")})], ctx, state, world)


def test_a_lease_end_centuries_ahead_is_refused(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "rent_support"}, {})],
                          ctx, at_menu("en"))
    answers = [*PERSON, {"choice": "accept"}, "3000", {"choice": "salary"}, "20000"]
    state, world, _ = run([(a, {}) for a in answers], ctx, state, world)
    run([("2150-01-01", {"expects": ("lease_end", "date"), "contains": "50 years"}),
         ("1/1/1850", {"expects": ("lease_end", "date"), "contains": "1900"}),
         ("2027-06-30", {"expects": ("lease_contract", "file")})], ctx, state, world)


# 5. A typed number at a question that takes a number is the answer, never a navigation choice.

def at_income_source(ctx, lang: str = "ar"):
    return started(ctx, *PERSON, {"choice": "accept"}, "2500", lang=lang)


@pytest.mark.parametrize("typed", ["١٠", "10", "9", "8", "-1", "+1", "1.5", "٠"])
def test_a_typed_number_at_the_income_source_never_navigates(ctx, typed):
    state, world, _ = at_income_source(ctx)
    assert state.draft.answers["monthly_income"] == "2500.00"
    state, world, _ = run([(typed, {"expects": ("income_source", "choice")})], ctx, state, world)
    assert not world.cases and state.draft is not None and state.step == Step.FIELD
    assert "income_source" not in state.draft.answers


def test_typed_numbers_still_pick_the_options_and_navigation_still_works(ctx):
    state, world, _ = at_income_source(ctx)
    state, world, _ = run([("٢", {"expects": ("id_photo", "file")}),
                           ("رجوع", {"expects": ("income_source", "choice")}),
                           # revisited, "keep" comes first, as every channel numbers it
                           ("2", {"expects": ("id_photo", "file")}),
                           ({"choice": "back"}, {"expects": ("income_source", "choice")})],
                          ctx, state, world)
    assert state.draft.answers["income_source"] == "social_security"
    state, world, _ = run([("1", {"expects": ("id_photo", "file")})], ctx, state, world)
    assert state.draft.answers["income_source"] == "social_security"
    state, world, _ = run([({"choice": "back"}, {}), ({"choice": "human"}, {"step": Step.CASE})],
                          ctx, state, world)
    assert world.cases and world.cases[0].detail == "income_source"
    state, world, _ = at_income_source(ctx)
    run([("الباحث الاجتماعي", {"step": Step.CASE})], ctx, state, world)


def test_text_channels_number_only_what_a_typed_number_can_pick(ctx):
    """The console and WhatsApp (over ten choices) number the options, and "keep" when
    the question is revisited; the ways out are shown by name, as they are typed."""
    state, world, replies = at_income_source(ctx)
    asked = replies[-1]
    options = [o.label.get("ar") for o in BAKKAH.service("food_basket").field("income_source").options]
    shown = console.render(asked).splitlines()
    assert [line.strip() for line in shown if line.strip()[:1].isdigit()] == [
        f"{n}. {label}" for n, label in enumerate(options, 1)]
    assert "  [↩ رجوع]" in shown and not any(line.strip().startswith(f"{len(options) + 1}.")
                                            for line in shown)
    many = replace(asked, choices=tuple(Choice(f"o{n}", f"option {n}") for n in range(9))
                   + asked.choices[-3:], numbered=9)  # a list holds 10: numbered lines
    [body] = messages("966500000001", many)
    assert "9. option 8\n[↩ رجوع]" in body["text"]["body"]

    _, _, refused = run([("١٠", {"expects": ("income_source", "choice")})], ctx, state, world)
    assert "  [↩ رجوع]" in console.render(refused[-1]).splitlines()  # asked again, the same way

    state, world, _ = run([("٢", {}), ("رجوع", {})], ctx, state, world)  # revisited: keep first
    again = [line.strip() for line in console.render(journey.prompt(state, ctx)).splitlines()]
    assert again[again.index("1. ✔ الإبقاء على الإجابة الحالية") + 1] == f"2. {options[0]}"


@pytest.mark.parametrize("typed,stored", [("1", 1), ("-1", None), ("١", 1), ("2", 2)])
def test_a_number_typed_at_the_offer_of_a_researcher_answers_the_number_question(
        ctx, typed, stored):
    state, world, _ = started(ctx, *PERSON[:5])
    state, world, _ = run([("0", {}), ("0", {}), ("0", {"expects": ("escalate", "choice")}),
                           (typed, {})], ctx, state, world)
    assert not world.cases and state.step != Step.CASE
    assert state.draft.answers.get("family_size") == stored


def test_navigation_at_a_number_question_by_button_by_words_and_by_command(ctx):
    state, world, _ = started(ctx, *PERSON[:5])
    state, world, _ = run([({"choice": "back"}, {"expects": ("district", "text")}),
                           ({"choice": "keep"}, {"expects": ("family_size", "integer")}),
                           ("رجوع", {"expects": ("district", "text")}),
                           ({"choice": "keep"}, {"expects": ("family_size", "integer")}),
                           ("٣", {"expects": ("sensitive_consent", "choice")})], ctx, state, world)
    assert state.draft.answers["family_size"] == 3
    state, world, _ = started(ctx, *PERSON[:5])
    run([("الباحث الاجتماعي", {"step": Step.CASE})], ctx, state, world)
    state, world, _ = started(ctx, *PERSON[:5])
    state, world, _ = run([("/cancel", {"expects": ("menu", "choice")})], ctx, state, world)
    assert state.draft is None


# The NUL that PostgreSQL text cannot hold, through the real simulator and database.

def test_a_nul_in_a_name_is_removed_and_the_next_question_asked(db_url):
    sim = Simulator(db_url)
    try:
        sim.send("u1", text="السلام عليكم")
        sim.send("u1", choice="accept")
        sim.send("u1", choice="new_request")
        asked = sim.send("u1", choice="food_basket")
        assert asked[-1]["expects"] == {"field": "full_name", "kind": "text"}
        out = sim.send("u1", text="محمد\x00 عبدالله\x1b[0m أحمد\u3164 الغامدي\x00")
        assert out[-1]["expects"] == {"field": "national_id", "kind": "national_id"}, out
        out = sim.send("u1", text="\x00\x00")
        assert out[-1]["expects"] == {"field": "national_id", "kind": "national_id"}, out
        assert "لم تصلني إجابة" in out[-1]["text"]
        back = sim.send("u1", choice="back")
        assert back[-1]["text"].endswith(NAME), back[-1]["text"]
        sim.send("u1", choice="keep")
        sim.send("u1", text="1234567897")
        out = sim.send("u1", text="/help")
        assert out[-1]["expects"] == {"field": "id_expiry", "kind": "date"}
    finally:
        sim.close()
    cases = json.loads(wasl("cases", "list", "--json", db=db_url).stdout)
    assert cases == []
