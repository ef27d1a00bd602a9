"""The policy's review steps end to end, over the real `wasl simulate` process: staff and
beneficiaries in one run, for a policy whose answer comes "within a period of not less than
two weeks" from the research committee (Bakkah) and one whose answer comes "within a set
period" from "the competent body" (Al-Huda).

In each, four beneficiaries submit a request, two in Arabic and two who chose English. Two
are reviewed with an answer that does not match its document: the request goes back to the
beneficiary with what is needed, the new photo arrives, every item matches, the request is
registered under a file number; a researcher cannot decide it (refused and audited), a
committee member approves it, the researcher records the service delivered and the
beneficiary rates it. The other two are registered and rejected, each with its reason (one
by the committee, one by an admin). Every notice is read as the beneficiary reads it, in
their language; `wasl requests show --json` keeps what each step recorded."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pytest
from babel.dates import format_date

from bot import profiles
from tests.e2e.sim import NAME, Simulator, complete_intake, register, riyadh_today, staff_add, wasl

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 300
ID_LABEL = {"ar": "رقم الهوية الوطنية أو الإقامة", "en": "National ID or iqama number"}


@dataclass(frozen=True)
class Policy:
    """What a profile's policy says, in the words its beneficiaries and staff read."""

    service: str
    files: str  # the beneficiaries' file numbers: BKF-000001
    studies: dict[str, str]  # step 5 of the policy, as the beneficiary reads it
    expect: dict[str, str]  # the expected answer date: "from DATE on", or "by DATE"
    decider: str  # who decides, on the staff's screens (Arabic)
    due: str  # the due date on the staff's screens (Arabic), before the date
    waits: dict[str, str]  # a registered request's status, as /status shows it
    expiry: str  # the answer with a validity date the reviewer matches (its field)


POLICIES = {
    "bakkah": Policy(
        "food_basket", "BKF",
        {"ar": "سيُرفع طلبك إلى لجنة البحث لدراسته والرد عليه بشأن قبوله أو رفضه خلال مدة لا "
               "تقل عن أسبوعين.",
         "en": "Your request goes to the research committee, which studies it and replies with "
               "acceptance or rejection within a period of not less than 2 weeks."},
        {"ar": r"يُتوقع الرد ابتداءً من \d+ .+ \d{4} هـ \(%s\)\.",
         "en": r"Expect the answer from \d+ .+ \d{4} AH \(%s\) on\."},
        "لجنة البحث", "الرد ابتداءً من",
        {"ar": "حالة الطلب: لدى لجنة البحث", "en": "Status: With the research committee"},
        "id_expiry"),
    "alhuda": Policy(
        "pilgrim_support", "HDF",
        {"ar": "سيُرفع طلبك إلى الجهة المختصة في الجمعية لدراسته والرد عليه بشأن قبوله أو رفضه "
               "خلال مدة زمنية محددة هي أسبوعين.",
         "en": "Your request goes to the competent body in the association, which studies it "
               "and replies with acceptance or rejection within a set period of 2 weeks."},
        {"ar": r"يُتوقع الرد في موعد أقصاه \d+ .+ \d{4} هـ \(%s\)\.",
         "en": r"Expect the answer by \d+ .+ \d{4} AH \(%s\)\."},
        "الجهة المختصة", "الرد في موعد أقصاه",
        {"ar": "حالة الطلب: لدى الجهة المختصة في الجمعية",
         "en": "Status: With the competent body in the association"},
        "permit_expiry"),
}

# What the beneficiary reads at each step, in each language.
TOLD = {
    "ar": {
        "hello": "السلام عليكم",
        "received": "تم استلام طلبك، ورقمه {n}؛",
        "under_review": "مستجدات طلبك رقم {n}: قيد الدراسة لدى الباحث الاجتماعي.",
        "needs_info": "مستجدات طلبك رقم {n}: بانتظار معلومات إضافية منك.",
        "needed": "• رقم الهوية الوطنية أو الإقامة: {note}",
        "send_it": "نرجو إرساله هنا الآن: كتابةً، أو صورةً أو مستندًا.",
        "status_needs_info": "حالة الطلب: بانتظار معلومات إضافية منك",
        "back": "شكرًا لك، أضفنا ما أرسلته إلى طلبك رقم {n}، وعاد الطلب قيد الدراسة.",
        "registered": "اكتمل طلبك رقم {n} وتم تسجيله، ورقم ملفك لدى الجمعية {file}.",
        "approved": "يسعدنا إبلاغك بالموافقة على طلبك رقم {n}.\nسنتواصل معك بشأن استلام الخدمة.",
        "delivered": "تم تقديم الخدمة لطلبك {n} ({service}). ما مدى رضاك عن الخدمة؟",
        "a_right": "تقييم الخدمة حق لك، ونستخدم إجاباتك لتحسين خدماتنا فقط",
        "rejected": "نأسف لإبلاغك بأن طلبك رقم {n} قد رُفض بعد دراسته.",
        "reason": "السبب: {reason}",
        "may_talk": "وإن كانت لديك معلومات جديدة أو تغيّرت الظروف، فيمكن للباحث الاجتماعي",
        "talk": "🙋 التحدث مع باحث",
        "new": "📝 طلب دعم جديد",
        "stars": ["⭐ ضعيف جدًا", "⭐⭐ ضعيف", "⭐⭐⭐ مقبول", "⭐⭐⭐⭐ جيد",
                  "⭐⭐⭐⭐⭐ ممتاز", "⏳ لاحقًا"],
        "thanks": "شكرًا لك",
        # what staff write, relayed as written
        "note": "الرقم لا يطابق صورة الهوية",
        "why": "دخل الأسرة أعلى من حد الدعم",
    },
    "en": {
        "hello": "hello",
        "received": "Your request has been received. Its number is {n};",
        "under_review": "Update on your request {n}: Being studied by the social researcher.",
        "needs_info": "Update on your request {n}: Waiting for more information from you.",
        "needed": "• National ID or iqama number: {note}",
        "send_it": "Please send it here now: write it, or send a photo or a document.",
        "status_needs_info": "Status: Waiting for more information from you",
        "back": "Thank you. We added this to your request {n}; it is back under study.",
        "registered": "Your request {n} is complete and registered. Your file number at the "
                      "association is {file}.",
        "approved": "Good news: your request {n} has been approved.\n"
                    "We will contact you about receiving the service.",
        "delivered": "Your request {n} ({service}) has been delivered. How satisfied are you "
                     "with the service?",
        "a_right": "Rating the service is your right. We use your answers only to improve our "
                   "service",
        "rejected": "We are sorry to tell you that your request {n} was rejected after study.",
        "reason": "Reason: {reason}",
        "may_talk": "If you have new information or your circumstances change, a social researcher",
        "talk": "🙋 Talk to a researcher",
        "new": "📝 New support request",
        "stars": ["⭐ Very dissatisfied", "⭐⭐ Dissatisfied", "⭐⭐⭐ Neutral", "⭐⭐⭐⭐ Satisfied",
                  "⭐⭐⭐⭐⭐ Very satisfied", "⏳ Later"],
        "thanks": "Thank you",
        "note": "the number does not match the ID photo",
        "why": "the family's income is above the support limit",
    },
}


@pytest.fixture(params=sorted(POLICIES))
def key(request) -> str:
    return request.param


@pytest.fixture
def db(db_url) -> str:
    staff_add(db_url, ("sim:noura", "researcher", "Noura Alotaibi"),
              ("sim:khalid", "committee", "Khalid Alzahrani"), ("sim:huda", "admin", "Huda Alqahtani"))
    return db_url


@pytest.fixture
def profile_file(key, tmp_path) -> str:
    """The profile as shipped, with its staff told of new work (the committee of a request
    registered for it) but no morning digest: that one depends on the hour the test runs."""
    path = tmp_path / f"{key}.yaml"
    path.write_text(profiles.resolve(key).read_text(encoding="utf-8")
                    + "\ndesk: {morning_digest: false}\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def sim(db, profile_file):
    """One `wasl simulate` process on the profile, for the whole path."""
    s = Simulator(db, profile_file, env={"WASL_DESK_NOTICES": "true"})
    yield s
    if s.proc.poll() is None:
        s.kill()


def to(replies: list[dict], who: str) -> list[dict]:
    return [r for r in replies if r.get("to") == who]


def said(replies: list[dict], who: str) -> list[str]:
    return [r["text"] for r in to(replies, who)]


def last(replies: list[dict], who: str) -> dict:
    mine = to(replies, who)
    assert mine, replies
    return mine[-1]


def labels(reply: dict) -> list[str]:
    return [c["label"] for c in reply["choices"]]


def ids(reply: dict) -> list[str]:
    return [c["id"] for c in reply["choices"]]


STAFF_WORDS = {"note", "why"}  # relayed as staff wrote them: never in the association's terms


@dataclass
class Beneficiary:
    who: str
    lang: str
    number: str = ""
    submitted: str = ""  # the notice their submission got
    terms: tuple[tuple[str, str], ...] = ()  # the profile's own words (Al-Huda's team)

    def t(self, what: str, **values: str) -> str:
        said = TOLD[self.lang][what]
        if what not in STAFF_WORDS:
            for ours, theirs in self.terms:
                said = said.replace(ours, theirs)
        return said.format(**values)


def submit(sim: Simulator, b: Beneficiary, key: str, tmp_path) -> None:
    """From the first hello (in their language) to the request number."""
    welcome = sim.send(b.who, text=b.t("hello"), lang=b.lang)
    assert welcome[0]["expects"]["field"] == "consent"
    sim.send(b.who, choice="accept")
    done = complete_intake(sim, b.who, profiles.load(key), POLICIES[key].service, tmp_path)
    b.submitted = said(done, b.who)[0]  # (in working hours, the researchers are told too)
    b.number = re.search(r"[A-Z]{2}-\d{4}-\d{6}", b.submitted).group(0)
    assert b.submitted.startswith(b.t("received", n=b.number))


def told_the_period(text: str, b: Beneficiary, policy: Policy, due: date) -> None:
    """The policy's step 5 in its own words, and the day the answer is expected."""
    assert policy.studies[b.lang] in text, text
    day = format_date(due, format="long", locale=b.lang)  # the Gregorian date, as written
    assert re.search(policy.expect[b.lang] % re.escape(day), text), text


def review_with_a_mismatch(sim: Simulator, b: Beneficiary, tmp_path) -> None:
    """The ID number does not match its photo: back to the beneficiary, who sends a new
    photo; then every item matches. Up to the registration's button."""
    n, note = b.number, b.t("note")
    taken = sim.send("noura", choice=f"review:{n}")  # the button of /reviews
    card = last(taken, "noura")
    assert card["text"].startswith(f"استلمت الطلب {n} للدراسة.")
    assert "المطابقة مع المستندات (أُنجز 0 من 4):" in card["text"]
    assert f"2. {ID_LABEL['ar']}: 1234567897 · ⬜" in card["text"]  # unmasked for its reviewer
    assert labels(card) == ["✅ مطابق", "❌ غير مطابق", "↩ طلب شيء آخر من المستفيد"]
    assert said(taken, b.who) == [b.t("under_review", n=n)]

    named = sim.send("noura", choice=ids(card)[0])  # ✅ the name
    card = last(named, "noura")
    assert f"التالي: هل «{ID_LABEL['ar']}: 1234567897» مطابق للمستندات؟" in card["text"]
    asked = sim.send("noura", choice=ids(card)[1])  # ❌ the ID number
    assert said(asked, "noura")[0].startswith(f"ما وجه عدم المطابقة في «{ID_LABEL['ar']}»؟")
    noted = sim.send("noura", text=note)  # the note asked for: her next message
    card = last(noted, "noura")
    assert card["text"].startswith(f"❌ «{ID_LABEL['ar']}» غير مطابق: {note}")
    assert f"2. {ID_LABEL['ar']}: 1234567897 · ❌ {note}" in card["text"]
    assert said(asked, b.who) == [] and said(noted, b.who) == []  # not relayed, not yet
    while match := [i for i in ids(card) if i.startswith(f"match:{n} ")]:  # the rest match
        card = last(sim.send("noura", choice=match[0]), "noura")
    assert "يوجد بند غير مطابق أو لم يعد ساريًا" in card["text"]
    assert labels(card) == ["↩ إعادة الطلب إلى المستفيد"]

    back = sim.send("noura", choice=ids(card)[0])
    assert said(back, "noura")[0].startswith(f"أُعيد الطلب {n} إلى المستفيد")
    [told] = said(back, b.who)
    assert told.startswith(b.t("needs_info", n=n))
    assert b.t("needed", note=note) in told and b.t("send_it") in told
    status = sim.send(b.who, text="/status")
    assert b.t("status_needs_info") in status[0]["text"] and note in status[0]["text"]

    photo = tmp_path / f"{b.who}-id.png"
    photo.write_bytes(PNG)
    sent = sim.send(b.who, file={"path": str(photo), "name": photo.name, "mime": "image/png"})
    assert said(sent, b.who)[0] == b.t("back", n=n)
    assert f"وصلت المعلومات الناقصة للطلب {n}" in said(sent, "noura")[0]
    assert photo.name in said(sent, "noura")[0]

    again = last(sim.send("noura", text=f"/review {n}"), "noura")
    assert again["text"].startswith(f"دراسة الطلب {n}:")
    assert "(أُنجز 4 من 5)" in again["text"]
    doc = re.search(rf"5\. أُرسل مع المعلومات الناقصة: 📎 {re.escape(photo.name)} /doc (\d+) · ⬜",
                    again["text"]).group(1)
    # The new photo shows the number: the ID number is marked again (typed: the card
    # offers buttons for the items not yet marked), then the photo itself.
    sim.send("noura", text=f"/match {n} national_id")
    matched = last(sim.send("noura", choice=f"match:{n} doc:{doc}"), "noura")
    assert "(أُنجز 5 من 5)" in matched["text"] and "كل البنود مطابقة." in matched["text"]
    assert f"2. {ID_LABEL['ar']}: 1234567897 · ✅" in matched["text"]
    assert labels(matched) == ["✅ استكمال التسجيل", "↩ طلب شيء آخر من المستفيد"]


def registered(replies: list[dict], b: Beneficiary, policy: Policy, file: str,
               due: date) -> None:
    """What the registration tells the beneficiary, the researcher and the committee."""
    n = b.number
    assert said(replies, "noura") == [
        f"تم تسجيل الطلب {n}، ورقم ملف المستفيد {file}. الطلب الآن لدى {policy.decider}، وتم "
        "إبلاغ المستفيد."]
    [told] = said(replies, b.who)
    assert told.startswith(b.t("registered", n=n, file=file))
    told_the_period(told, b, policy, due)
    notice = last(replies, "khalid")
    assert notice["text"].startswith(f"🏛 الطلب {n} من {NAME} (")
    assert f"مسجل في الملف {file} وينتظر قرار {policy.decider}: {policy.due} {due}" in notice["text"]
    assert ids(notice) == [f"decide:{n}"]


def rate(sim: Simulator, b: Beneficiary) -> None:
    """The survey, answered with the buttons offered: five stars, with their name."""
    replies = sim.send(b.who, choice="rate:5")
    while (replies[-1]["expects"] or {}).get("field", "").startswith("survey_"):
        offered = ids(replies[-1])
        pick = next(i for i in ("rate:5", "named", "no_comment") if i in offered)
        replies = sim.send(b.who, choice=pick)
    assert replies[0]["text"].startswith(b.t("thanks"))
    assert replies[-1]["expects"]["field"] == "menu"


def test_the_policy_path_from_submission_to_a_decision(sim, db, key, profile_file, tmp_path):
    policy, profile = POLICIES[key], profiles.load(key)
    service = profile.service(policy.service)
    today = riyadh_today().isoformat()
    words = profile.terms.get  # what each reads, in the association's words
    passed = [Beneficiary("ar1", "ar", terms=words("ar")),  # approved, after a mismatch
              Beneficiary("en1", "en", terms=words("en"))]
    refused = [Beneficiary("ar2", "ar", terms=words("ar")),  # rejected, with a reason
               Beneficiary("en2", "en", terms=words("en"))]
    for b in passed + refused:
        submit(sim, b, key, tmp_path)

    waiting = last(sim.send("noura", text="/reviews"), "noura")
    due = date.fromisoformat(re.search(rf"{policy.due} (\S+) ·", waiting["text"]).group(1))
    for b in passed + refused:
        assert f"{b.number} · {NAME} · {service.label.get('ar')} · قُدّم {today} · {policy.due} " \
               f"{due} · في الانتظار" in waiting["text"]
        told_the_period(b.submitted, b, policy, due)
    assert labels(waiting) == [f"دراسة {b.number}" for b in passed + refused]

    # -- reviewed with a mismatch, registered ------------------------------------------------
    for count, b in enumerate(passed, 1):
        review_with_a_mismatch(sim, b, tmp_path)
        file = f"{policy.files}-{count:06d}"
        registered(sim.send("noura", choice=f"register:{b.number}"), b, policy, file, due)
        assert policy.waits[b.lang] in sim.send(b.who, text="/status")[0]["text"]
    ar1, en1 = passed

    # -- a researcher does not decide ----------------------------------------------------------
    tried = sim.send("noura", text=f"/decide {ar1.number} approve 12")
    assert said(tried, "noura") == [f"تسجيل القرار من صلاحية {policy.decider} أو المشرفين فقط."]
    typed = sim.send("noura", text=f"/request {ar1.number} موافقة")  # nor by setting the status
    assert said(typed, "noura") == [f"لهذه الخطوة أمرها الخاص: /decide {ar1.number}"]
    assert said(tried, "ar1") == [] and said(typed, "ar1") == []

    # -- the committee approves, at a meeting ----------------------------------------------------
    listed = last(sim.send("khalid", text="/committee"), "khalid")
    assert listed["text"].startswith(f"طلبات تنتظر قرار {policy.decider} (الأقدم أولًا):")
    for b in passed:
        assert f"{b.number} · {NAME} · {service.label.get('ar')} · {policy.due} {due}" in listed["text"]
    assert ids(listed) == [f"decide:{b.number}" for b in passed]
    card = last(sim.send("khalid", choice=f"decide:{ar1.number}"), "khalid")
    assert f"التسجيل: الملف {policy.files}-000001" in card["text"]
    assert "المطابقة مع المستندات: 5 بنود، بواسطة Noura Alotaibi" in card["text"]
    assert "1234567897" not in card["text"] and "••••••7897" in card["text"]  # masked for them
    assert labels(card)[-2:] == ["✅ موافقة", "❌ رفض"]
    asked = sim.send("khalid", choice=f"decide:{ar1.number} approve")
    assert said(asked, "khalid")[0].startswith("نرجو كتابة رقم الاجتماع وتاريخه")
    assert said(asked, "ar1") == []
    approved = sim.send("khalid", text="١٢")  # meeting 12 (in Arabic-Indic digits), today
    assert said(approved, "khalid") == [
        f"تمت الموافقة على الطلب {ar1.number} (الاجتماع 12، {today}). تم إبلاغ المستفيد."]
    assert said(approved, "ar1") == [ar1.t("approved", n=ar1.number)]
    reviewer = last(approved, "noura")
    assert reviewer["text"].startswith(f"✅ تمت الموافقة على الطلب {ar1.number}.")
    assert labels(reviewer) == ["📦 تم التسليم"] and ids(reviewer) == [f"deliver:{ar1.number}"]
    typed = sim.send("khalid", text=f"/decide {en1.number} approve 13")  # all in one line
    assert said(typed, "en1") == [en1.t("approved", n=en1.number)]
    again = sim.send("khalid", choice=f"decide:{ar1.number} reject")  # decided already
    assert said(again, "khalid") == [f"صدر القرار على الطلب {ar1.number} من قبل: مقبول."]
    assert said(again, "ar1") == []

    # -- the service delivered, then rated ------------------------------------------------------
    what = sim.send("noura", choice=f"deliver:{ar1.number}")
    assert said(what, "noura")[0].startswith("ما الذي قُدّم؟") and labels(last(what, "noura")) == ["لا إضافة"]
    for b, delivered in ((ar1, sim.send("noura", text="1 سلة")),
                         (en1, sim.send("noura", text=f"/deliver {en1.number} 500 ريال"))):
        assert said(delivered, "noura") == [f"الطلب {b.number}: سُجّل تقديم الخدمة. تم إبلاغ المستفيد."]
        invited, question = to(delivered, b.who)
        assert invited["text"].startswith(b.t("delivered", n=b.number,
                                              service=service.label.get(b.lang)))
        assert b.t("a_right") in invited["text"]
        assert question["expects"] == {"field": "survey_rating", "kind": "choice"}
        assert ids(question) == [f"rate:{i}" for i in range(1, 6)] + ["later"]
        assert labels(question) == TOLD[b.lang]["stars"]
        rate(sim, b)

    # -- rejected, each with its reason -----------------------------------------------------------
    ar2, en2 = refused
    for count, b in enumerate(refused, len(passed) + 1):
        registered(register(sim, b.number, "noura"), b, policy, f"{policy.files}-{count:06d}", due)
    sim.send("khalid", choice=f"decide:{ar2.number}")
    asked = sim.send("khalid", choice=f"decide:{ar2.number} reject")
    assert said(asked, "khalid")[0].startswith("نرجو كتابة رقم الاجتماع وتاريخه، ثم السبب")
    rejected = sim.send("khalid", text=f"3 {ar2.t('why')}")
    assert said(rejected, "khalid") == [f"تم رفض الطلب {ar2.number} (الاجتماع 3، {today}). تم "
                                        "إبلاغ المستفيد مع السبب."]
    no_reason = sim.send("huda", lang="en", text=f"/decide {en2.number} reject 4")  # an admin
    assert said(no_reason, "huda") == ["A rejection needs its reason: the beneficiary reads it. "
                                       "Write the reason."]
    assert said(no_reason, "en2") == []
    with_reason = sim.send("huda", lang="en", text=en2.t("why"))
    assert said(with_reason, "huda") == [f"{en2.number} is rejected (meeting 4, {today}). The "
                                         "beneficiary was told, with the reason."]
    for b, replies in ((ar2, rejected), (en2, with_reason)):
        [told] = to(replies, b.who)
        lines = told["text"].split("\n")
        assert lines[:2] == [b.t("rejected", n=b.number), b.t("reason", reason=b.t("why"))]
        assert lines[2].startswith(b.t("may_talk"))
        assert labels(told) == [b.t("talk"), b.t("new")] and ids(told) == ["human", "new_request"]
    sim.close()

    # -- what each step recorded -------------------------------------------------------------------
    with ThreadPoolExecutor() as pool:  # (each `wasl` is a Python start-up: at once)
        shown, turned_down, log, rated = pool.map(lambda args: json.loads(
            wasl(*args, db=db, profile=profile_file).stdout), [
            ("requests", "show", ar1.number, "--json"), ("requests", "show", en2.number, "--json"),
            ("audit", "--json"), ("surveys", "--json")])
    assert shown["status"] == "service_delivered"
    assert [h["status"] for h in shown["history"]] == [
        "submitted", "under_review", "needs_info", "under_review", "committee", "approved",
        "service_delivered"]
    # each mark in its order: the ID number, not matching, then matched by the new photo
    # (document 5: after the four photos of the intakes)
    assert [(m["item"], m["matched"], m["note"]) for m in shown["review"]] == [
        ("full_name", True, None), ("national_id", False, ar1.t("note")),
        (policy.expiry, True, None), ("doc:1", True, None), ("national_id", True, None),
        ("doc:5", True, None)]
    assert {m["by"] for m in shown["review"]} == {"Noura Alotaibi"}
    assert {k: v for k, v in shown["registration"].items() if k != "at"} == {
        "file_number": f"{policy.files}-000001", "by": "Noura Alotaibi"}
    assert {k: v for k, v in shown["decision"].items() if k != "at"} == {
        "outcome": "approved", "reason": None, "meeting": "12", "meeting_date": today,
        "by": "Khalid Alzahrani"}
    assert {k: v for k, v in shown["delivery"].items() if k != "at"} == {
        "service": policy.service, "amount": "1", "unit": "سلة", "receipt_document": None,
        "by": "Noura Alotaibi"}

    assert turned_down["status"] == "rejected" and turned_down["delivery"] is None
    assert turned_down["registration"]["file_number"] == f"{policy.files}-000004"
    assert {k: v for k, v in turned_down["decision"].items() if k != "at"} == {
        "outcome": "rejected", "reason": en2.t("why"), "meeting": "4", "meeting_date": today,
        "by": "Huda Alqahtani"}
    assert all(m["matched"] for m in turned_down["review"])

    decisions = [(e["actor"], e["request"], e["allowed"]) for e in log if e["action"] == "decide"]
    assert decisions == [("sim:noura", ar1.number, False), ("sim:khalid", ar1.number, True),
                         ("sim:khalid", en1.number, True), ("sim:khalid", ar2.number, True),
                         ("sim:huda", en2.number, True)]
    assert [(e["actor"], e["request"]) for e in log
            if e["action"] == "status_change" and not e["allowed"]] == [("sim:noura", ar1.number)]
    assert [(e["actor"], e["request"]) for e in log if e["action"] == "register" and e["allowed"]] \
        == [("sim:noura", b.number) for b in passed + refused]

    assert sorted(s["subject"] for s in rated["surveys"] if s["status"] == "answered") == \
        sorted(f"request:{b.number}" for b in passed)
    assert [a["rating"] for a in rated["answers"]] == [5, 5]
