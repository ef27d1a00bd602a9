"""What beneficiaries read, in each association's words: questions asked as requests and
numbered over the questions actually asked, dates without stale examples, Hijri months in
their grammar, one term per thing, one digit style, and each profile's own vocabulary."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.messages.pofile import read_po

from bot import i18n, profiles
from bot.i18n import LOCALES_DIR
from conversations import kinds, render
from conversations.state import Draft, State, Step
from tests.unit.dialogue import World, photo, run


@pytest.fixture(scope="module")
def arabic():
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / "wasl.po").open("rb") as handle:
        return [m for m in read_po(handle) if m.id]


def at_menu_of(ctx, lang: str) -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


def test_alhuda_numbers_the_questions_each_path_asks(ctx_for):
    """Al-Huda asks the ID number or the passport's two questions: the count follows the
    path taken, with no jump from 2 to 4."""
    ctx = ctx_for(profiles.load("alhuda"))
    state, world = at_menu_of(ctx, "ar"), World()
    state, world, replies = run([
        ({"choice": "new_request"}, {}),
        ({"choice": "pilgrim_support"}, {"contains": "(1/11) نرجو كتابة الاسم الرباعي"}),
        ("محمد عبدالله أحمد الغامدي", {"contains": "(2/11) نرجو اختيار نوع وثيقة الهوية"}),
        ("3", {"contains": "(3/12) نرجو كتابة رقم جواز السفر"}),
        ("A1234567", {"contains": "(4/12) نرجو كتابة الجنسية"}),
        ("مصرية", {"contains": "(5/12) نرجو كتابة رقم جوال"}),
    ], ctx, state, world)
    back, _, _ = run([({"choice": "back"}, {}), ({"choice": "back"}, {}),
                      ({"choice": "back"}, {"contains": "(2/12) نرجو اختيار"}),
                      ({"choice": "national_id"},
                       {"contains": "(3/11) نرجو كتابة رقم الهوية الوطنية أو الإقامة"})],
                     ctx, state, world)
    assert back.step == Step.FIELD


def test_a_question_is_a_request_and_a_question_stays_one(ctx_for):
    ctx = ctx_for(profiles.load("bakkah"))
    state, world = at_menu_of(ctx, "ar"), World()
    _, _, replies = run([({"choice": "new_request"}, {}),
                         ({"choice": "financial_aid"}, {})], ctx, state, world)
    assert replies[-1].text.startswith("(1/12) نرجو كتابة الاسم الرباعي كما في الهوية")
    en = ctx_for(profiles.load("alhuda"))
    _, _, replies = run([({"choice": "new_request"}, {}), ({"choice": "umrah_support"}, {})],
                        en, at_menu_of(en, "en"), World())
    assert replies[-1].text.startswith("(1/11) Please write: Full name (four parts)")
    umrah = profiles.load("alhuda").field("umrah_support", "performed_umrah")
    assert render.question_text(umrah, "ar", ctx) == "هل سبق لك أداء العمرة؟"


def test_a_date_is_asked_by_its_format_not_by_a_stale_example(ctx_for):
    ctx = ctx_for(profiles.load("bakkah"))
    spec = profiles.load("bakkah").field("financial_aid", "id_expiry")
    hint = kinds.hint(spec, "ar", ctx)
    assert "يوم/شهر/سنة" in hint and not re.search(r"\d", hint)


def test_hijri_months_after_a_day_are_in_their_grammar(ctx_for):
    ctx = ctx_for(profiles.load("bakkah"))
    assert kinds.hijri(date(2027, 5, 15), "ar", ctx).startswith("9 ذي الحجة 1448")
    assert kinds.hijri(date(2027, 4, 16), "ar", ctx).startswith("9 ذي القعدة 1448")
    assert kinds.hijri(date(2027, 5, 15), "en", ctx).startswith("9 Dhu")


def test_a_referral_is_an_ihala_and_a_status_is_a_hala(arabic):
    """One term per thing: «حالة» is a request's status, the referral is an «إحالة»."""
    for m in arabic:
        about_a_case = isinstance(m.id, str) and re.search(r"\bcases?\b", m.id, re.I) \
            and "in this case" not in m.id
        if isinstance(m.string, str) and about_a_case:
            assert not re.search(r"(?<!إ)حال(ة|ات|تك|ته)\b", m.string.replace("حالة الطلب", "")), \
                (m.id, m.string)


def test_arabic_uses_one_digit_style_and_arabic_quotes(arabic):
    for m in arabic:
        for text in ([m.string] if isinstance(m.string, str) else m.string):
            assert not re.search("[٠-٩]", text), (m.id, text)
            assert '"' not in text, (m.id, text)


def test_the_survey_is_an_istibana_and_the_rejection_one_word(arabic):
    for m in arabic:
        assert "استبيان" not in str(m.string), m.id
    by_id = {m.id: m.string for m in arabic}
    assert by_id["Rejected"] == by_id["rejected"] == "مرفوض"


def test_sadeed_speaks_of_users_and_services(ctx_for):
    """Sadeed's policy serves «المستخدمين»; it offers services, and its notice lists a
    business's data, not a family's income."""
    ctx = ctx_for(profiles.load("sadeed"))
    state = State(lang="ar")
    _, _, replies = run([("السلام عليكم", {})], ctx, state, World())
    notice = replies[0].text
    assert "بيانات المنشأة أو المشروع" in notice and "الأسرة والدخل" not in notice
    _, _, replies = run([({"choice": "accept"}, {})], ctx, state, World())
    labels = [c.label for c in replies[-1].choices]
    assert "📝 طلب خدمة جديد" in labels and not any("دعم" in label for label in labels)
    tr = ctx.tr("ar")
    said = tr.gettext("A rejection needs its reason: the beneficiary reads it. Write the reason.")
    assert "المستخدم يطّلع" in said and "مستفيد" not in said
    assert "user" in ctx.tr("en").gettext("Note saved on case #{case}; the beneficiary does "
                                          "not see it.")


def test_alhuda_refers_to_its_competent_team_and_understands_a_researcher(ctx_for, arabic):
    """Al-Huda's policy refers an unclear case to the competent body: no text of Wasl's
    names a social researcher there, yet "ابي باحث" still reaches its team."""
    ctx = ctx_for(profiles.load("alhuda"))
    tr = ctx.tr("ar")
    for m in arabic:
        if isinstance(m.string, str) and "," not in m.string:  # (phrase lists: matched too)
            assert "باحث" not in tr.gettext(m.id), (m.id, tr.gettext(m.id))
    state, world, replies = run([("ابي باحث", {"step": Step.CASE})], ctx,
                                at_menu_of(ctx, "ar"), World())
    assert "الفريق المختص" in replies[0].text and "باحث" not in replies[0].text


def test_a_profile_without_terms_keeps_the_catalog(translations):
    bakkah = profiles.load("bakkah")
    assert i18n.worded(translations, bakkah) == translations


GUARDIAN = "فاطمة محمد عبدالله الحربي"
CHILD = "سارة خالد محمد الحربي"


def _child_enrolment(ctx, applicant: str):
    """Bir bin Hirmas: a circle enrolment up to the signature, by the student or a guardian."""
    script = [({"choice": "new_request"}, {}), ({"choice": "halaqa_enrolment"}, {}),
              ({"choice": applicant}, {})]
    if applicant == "guardian":
        script.append((GUARDIAN, {"contains": "(3/11) نرجو كتابة اسم الطالب"}))
    script += [(CHILD, {}), ("1048213373", {}), ("1440-01-01", {}), ("0551112233", {}),
               ("3", {}), ({"choice": "female"}, {}), ({"choice": "after_fajr"}, {}),
               ("الهجرة", {}), (photo(), {"step": Step.SUMMARY})]
    return run(script, ctx, at_menu_of(ctx, "ar"), World())


def test_basmat_asks_a_parent_to_sign_for_a_child_in_their_own_name(ctx_for):
    """Basmat's policy: «التأكد على صحة البيانات … والتوقيع عليها». Orthodontics is for
    children: the parent named in the request types their name to sign."""
    ctx = ctx_for(profiles.load("basmat"))
    service = profiles.load("basmat").service("orthodontics")
    answers = {"full_name": CHILD, "national_id": "1048213373", "birth_date": "2015-01-01",
               "guardian_name": GUARDIAN, "mobile": "+966551112233", "city": "جدة",
               "monthly_income": "3000", "has_insurance": "no", "complaint": "ازدحام الأسنان",
               "id_photo": {"name": "id.jpg"}, "medical_report": None}
    assert set(answers) == {f.key for f in service.fields}
    state = State(step=Step.SUMMARY, lang="ar", consented=True, sensitive_consent=True,
                  draft=Draft(service="orthodontics", answers=answers, index=len(answers)))
    state, world, replies = run([({"choice": "confirm"}, {"step": Step.SIGNATURE,
                                                          "contains": "للتوقيع"}),
                                 (GUARDIAN, {"step": Step.MENU})], ctx, state, World())
    [request] = world.requests
    assert request.signature == GUARDIAN and f"ولي أمر {CHILD}" in request.ack_text


def test_a_guardian_makes_the_acknowledgment_for_a_child_in_their_own_name(ctx_for):
    ctx = ctx_for(profiles.load("bir_bin_hirmas"))
    state, world, replies = _child_enrolment(ctx, "guardian")
    summary = replies[-1].text
    assert f"إقرار: أُقر أنا {GUARDIAN}، ولي أمر {CHILD}،" in summary
    assert "• من يقدّم الطلب: ولي الأمر" in summary  # (its question mark is not a label's)
    state, world, replies = run([({"choice": "confirm"}, {"step": Step.SIGNATURE}),
                                 (CHILD, {"step": Step.SIGNATURE,
                                          "contains": "لا يطابق الاسم الكامل"}),
                                 ("فاطمه محمد عبد الله الحربي", {"step": Step.MENU})],
                                ctx, state, world)
    [request] = world.requests
    assert request.signature == "فاطمه محمد عبد الله الحربي"
    assert request.ack_version == "wasl-ack-guardian-1/ar" and GUARDIAN in request.ack_text
    assert request.answers["guardian_name"] == GUARDIAN


def test_a_student_applying_for_themselves_signs_as_the_student(ctx_for):
    ctx = ctx_for(profiles.load("bir_bin_hirmas"))
    state, world, replies = _child_enrolment(ctx, "student")
    assert "ولي أمر" not in replies[-1].text.split("إقرار")[1]
    state, world, _ = run([({"choice": "confirm"}, {}), (CHILD, {"step": Step.MENU})],
                          ctx, state, world)
    [request] = world.requests
    assert request.signature == CHILD and "guardian_name" not in request.answers
    assert request.ack_version == "wasl-ack-2/ar"
