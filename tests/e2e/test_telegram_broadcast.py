"""Announcements on Telegram, end to end: the real bot process (and the `wasl broadcast`
command) against the local fake Bot API server."""

from __future__ import annotations

import collections
import math
import os
import re
import time

import pytest

from bot.outbox import Limits
from tests.e2e.people import Person, broadcasts, outbox, seed
from tests.e2e.sim import wasl
from tests.e2e.telegram_bot import User, WaslProcess, buttons
from tests.fakes.telegram import TOKEN, FakeTelegram

ADMIN, RESEARCHER = 9001, 9002
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
TEXT = "<b>توزيع</b> السلال الغذائية يوم الخميس ٥ ديسمبر *بعد العصر*"
PG_URL = os.environ.get("WASL_TEST_DATABASE_URL")


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/wasl.db"


@pytest.fixture
def launch(fake, db, tmp_path):
    started: list[WaslProcess] = []

    def start(mode: str = "polling", url: str | None = None, runtime: str = "ptb",
              **env: str) -> WaslProcess:
        log = tmp_path / f"bot{len(started)}.log"
        proc = WaslProcess(fake, url or db, runtime, mode, log, **env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def announcements(fake: FakeTelegram, uid: int) -> list[dict]:
    return [p for p in fake.sent_to(uid) if "/stop" in p["text"] and TEXT.split()[0] in p["text"]]


def wait_finished(db: str, number: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broadcasts(db)[number - 1].status in ("done", "cancelled"):
            return
        time.sleep(0.3)
    raise AssertionError(f"broadcast {number} did not finish: {broadcasts(db)[number - 1].status}")


def shell_broadcast(db: str, tmp_path, *segment: str, text: str = TEXT) -> str:
    path = tmp_path / "announcement.txt"
    path.write_text(text, encoding="utf-8")
    args = ["broadcast", "--text-file", str(path), "--yes", "--no-watch"]
    for s in segment:
        args += ["--segment", s]
    return wasl(*args, db=db).stdout


def test_an_admin_composes_previews_and_sends_to_a_segment(fake, launch, db):
    people = [
        Person(101, requests=[("food_basket", "submitted")]),
        Person(102, lang="en", requests=[("food_basket", "submitted")]),
        Person(103, requests=[("financial_aid", "submitted")]),
        Person(104, requests=[("food_basket", "approved")]),
        Person(105, requests=[("food_basket", "submitted")], stopped=True),
        Person(106, requests=[("food_basket", "submitted")], unreachable=True),
    ]
    seed(db, people, staff=[(ADMIN, "Noura Admin", "admin"), (RESEARCHER, "Sara R", "researcher")])
    bot = launch()
    admin = User(fake, bot, ADMIN)

    asked = admin.say("/broadcast")
    assert "photo" in asked[-1]["text"] or "صورة" in asked[-1]["text"]
    menu = admin.say(TEXT)[-1]
    assert "c:bc_pick:service" in buttons(menu)
    admin.press("bc_pick:service")
    admin.press("bc_add:service=food_basket")
    admin.press("bc_pick:status")
    admin.press("bc_add:status=submitted")
    preview, confirm = admin.press("bc_pick:done")
    # the preview is exactly what a beneficiary in the admin's language receives
    assert preview["text"].startswith(TEXT) and "/stop" in preview["text"]
    assert "parse_mode" not in preview
    # Arabic duals: two recipients, two left out (one stopped, one blocked the bot)
    assert "مستفيدَين" in confirm["text"] and "شخصان" in confirm["text"]
    assert "c:bc_send:" in buttons(confirm)
    sent = admin.press("bc_send:")
    assert any("الإعلان رقم 1 في الطريق إلى مستفيدَين" in m["text"] for m in sent)

    wait_finished(db, 1)
    fake.wait(lambda: len(announcements(fake, 101)) == 1 and len(announcements(fake, 102)) == 1)
    got = announcements(fake, 101)[0]
    assert got["text"].startswith(TEXT)  # the markup is shown as typed: no parse mode
    assert "parse_mode" not in got and "inline_keyboard" not in str(got.get("reply_markup"))
    assert "An announcement" in announcements(fake, 102)[0]["text"]  # his language's footer
    for uid in (103, 104, 105, 106):  # other service, other status, stopped, blocked
        assert fake.sent_to(uid) == []
    fake.wait(lambda: any("اكتمل الإعلان رقم 1" in m["text"] for m in fake.sent_to(ADMIN)))
    report = fake.sent_to(ADMIN)[-1]["text"]  # the delivery report, in the admin's language
    assert "أُرسلت: 2" in report and "تعذّر إرسالها: 0" in report and "المتبقي: 0" in report
    row = broadcasts(db)[0]
    assert (row.status, row.total, row.actor) == ("done", 2, f"telegram:{ADMIN}")
    audit = wasl("audit", "--json", "--action", "broadcast", db=db).stdout
    assert f"telegram:{ADMIN}" in audit and "to 2 beneficiaries" in audit

    researcher = User(fake, bot, RESEARCHER)
    refused = researcher.say("/broadcast")
    assert any("للمشرفين فقط" in m["text"] for m in refused)
    assert '"allowed": false' in wasl("audit", "--json", "--actor", f"telegram:{RESEARCHER}",
                                      db=db).stdout


@pytest.mark.parametrize("runtime", ["ptb", "aiogram"])
def test_a_photo_announcement_is_uploaded_once(fake, launch, db, runtime):
    uids = list(range(8001, 8013))
    seed(db, [Person(u) for u in uids], staff=[(ADMIN, "Noura Admin", "admin")])
    admin = User(fake, launch(runtime=runtime), ADMIN)
    admin.say("/broadcast")
    admin.photo(PNG, caption="موعد التوزيع")
    admin.press("bc_pick:done")
    admin.press("bc_send:")
    wait_finished(db, 1)
    photos = {str(c.params["chat_id"]): c.params for c in fake.called("sendPhoto")}
    assert set(photos) == {str(u) for u in uids} | {str(ADMIN)}
    assert all(p["caption"].startswith("موعد التوزيع") and "/stop" in p["caption"]
               for p in photos.values())
    uploads = [chat for chat, p in photos.items()  # multipart (aiogram names it attach://)
               if p["photo"] == "<file>" or p["photo"].startswith("attach://")]
    assert uploads == [str(ADMIN)]  # the preview uploads it; every copy reuses its file id


def test_stop_in_any_spelling_and_subscribe_again(fake, launch, db, tmp_path):
    seed(db, [Person(201, requests=[("food_basket", "submitted")]), Person(202)],
         staff=[(RESEARCHER, "Sara R", "researcher")])
    bot = launch()
    user = User(fake, bot, 201)
    said = user.say("إِيقاف")  # with tashkeel and hamza: still the word
    assert "/subscribe" in said[0]["text"]
    assert "c:new_request" in buttons(said[-1])  # and the menu again, where they were

    shell_broadcast(db, tmp_path)
    wait_finished(db, 1)
    fake.wait(lambda: len(announcements(fake, 202)) == 1)
    assert announcements(fake, 201) == []  # stopped: never sent
    # a reply about their own request still reaches them
    researcher = User(fake, bot, RESEARCHER)
    researcher.say("/review BK-T-201-0")
    fake.wait(lambda: any("BK-T-201-0" in m["text"] for m in fake.sent_to(201)))

    assert "/stop" in user.say("/subscribe")[0]["text"]
    shell_broadcast(db, tmp_path)
    wait_finished(db, 2)
    fake.wait(lambda: len(announcements(fake, 201)) == 1)
    assert len(announcements(fake, 202)) == 2
    user.say("ايقاف")  # without the hamza
    shell_broadcast(db, tmp_path)
    wait_finished(db, 3)
    assert len(announcements(fake, 201)) == 1


def test_429_403_and_failures_in_a_broadcast(fake, launch, db, tmp_path):
    uids = list(range(3001, 3031))
    seed(db, [Person(u) for u in uids])
    launch(WASL_TELEGRAM_RATE="50", WASL_OUTBOX_BACKOFF="0.2", WASL_OUTBOX_MAX_ATTEMPTS="3")
    fake.fail("sendMessage", 403, chat_id="3005")
    fake.fail("sendMessage", 502, chat_id="3007", times=5)  # fails for good after 3 attempts
    fake.fail("sendMessage", 502, chat_id="3009", times=1)  # fails once, then goes
    fake.fail("sendMessage", 429, retry_after=1)  # the first send of all asks to wait
    shell_broadcast(db, tmp_path)
    wait_finished(db, 1)
    delivered = collections.Counter(str(c.params["chat_id"]) for c in fake.called("sendMessage")
                                    if c.status == 200)
    assert set(delivered) == {str(u) for u in uids} - {"3005", "3007"}
    assert set(delivered.values()) == {1}  # nobody twice
    calls = fake.called("sendMessage")
    # retry_after obeyed: once the 429 is back, nothing goes for a second (a send or two
    # already in flight at that moment may still land just after it)
    assert calls[0].status == 429
    times = [c.at for c in calls]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.95
    assert [c.status for c in calls if str(c.params["chat_id"]) == "3007"] == [502, 502, 502]
    assert [c.status for c in calls if str(c.params["chat_id"]) == "3005"] == [403]
    rows = {r.chat_id: r for r in outbox(db, 1)}
    assert rows["3005"].status == "unreachable" and rows["3007"].status == "failed"
    assert "502" in rows["3007"].error or "Bad Gateway" in rows["3007"].error
    assert rows["3009"].status == "sent" and rows["3009"].attempts == 2


def test_pause_resume_and_cancel_from_the_admins_chat(fake, launch, db, tmp_path):
    uids = list(range(4001, 4041))
    seed(db, [Person(u) for u in uids], staff=[(ADMIN, "Noura Admin", "admin")])
    bot = launch(WASL_TELEGRAM_RATE="8")
    admin = User(fake, bot, ADMIN)
    admin.say("/broadcast")
    admin.say(TEXT)
    admin.press("bc_pick:done")
    admin.press("bc_send:")

    def delivered() -> int:
        return sum(1 for u in uids for _ in announcements(fake, u))

    fake.wait(lambda: delivered() >= 8, timeout=20)
    paused = admin.say("/broadcast 1 pause")[-1]
    assert "c:bc_resume:1" in buttons(paused)
    time.sleep(1.0)  # what was in flight lands
    at_pause = delivered()
    time.sleep(2.0)
    assert delivered() == at_pause < len(uids)  # nothing goes while paused
    admin.press("bc_resume:1")
    fake.wait(lambda: delivered() >= at_pause + 8, timeout=20)
    admin.say("/broadcast 1 cancel")
    time.sleep(1.0)
    final = delivered()
    time.sleep(1.5)
    assert delivered() == final < len(uids)
    assert broadcasts(db)[0].status == "cancelled"
    counts = collections.Counter(r.status for r in outbox(db, 1))
    assert counts["sent"] == final and counts["cancelled"] == len(uids) - final
    actions = wasl("audit", "--json", "--actor", f"telegram:{ADMIN}", db=db).stdout
    for action in ("broadcast_pause", "broadcast_resume", "broadcast_cancel"):
        assert action in actions


def test_replies_do_not_wait_behind_a_broadcast(fake, launch, db, tmp_path):
    uids = list(range(5001, 5061))
    seed(db, [Person(u) for u in uids])
    bot = launch(WASL_TELEGRAM_RATE="6")
    shell_broadcast(db, tmp_path)
    fake.wait(lambda: sum(len(announcements(fake, u)) for u in uids) >= 3, timeout=20)
    user = User(fake, bot, 777)  # someone new writes while 60 announcements wait
    started = time.monotonic()
    welcome = user.say("/start")
    waited = time.monotonic() - started
    left = sum(1 for r in outbox(db, 1) if r.status in ("pending", "sending"))
    assert welcome and left > 20  # answered long before the broadcast is through
    assert waited < 3, waited  # 60 announcements at 6/s would be 10 s


def test_kill_mid_broadcast_and_restart(fake, launch, db, tmp_path):
    """A killed process leaves its claimed batch "sending"; once the lease runs out the
    restarted process sends it. Duplicates: at most one batch, the copies that were in
    flight at the kill (Limits.batch); losses: none."""
    uids = list(range(6001, 6201))
    seed(db, [Person(u) for u in uids])
    env = {"WASL_TELEGRAM_RATE": "20", "WASL_OUTBOX_LEASE": "2"}
    bot = launch(**env)
    shell_broadcast(db, tmp_path)
    fake.wait(lambda: len(fake.called("sendMessage")) >= 60, timeout=30)
    bot.kill()
    killed_at = len([c for c in fake.called("sendMessage") if c.status == 200])
    assert killed_at < len(uids)
    launch(**env)
    wait_finished(db, 1, timeout=60)
    delivered = collections.Counter(str(c.params["chat_id"]) for c in fake.called("sendMessage")
                                    if c.status == 200)
    duplicates = sum(n - 1 for n in delivered.values())
    lost = len(uids) - len(delivered)
    assert lost == 0
    assert duplicates <= Limits(per_second=20).batch == math.ceil(20 / 4)
    assert all(r.status == "sent" for r in outbox(db, 1))


@pytest.mark.skipif(not PG_URL, reason="several bot processes share a PostgreSQL database")
def test_two_processes_share_a_broadcast_on_postgresql(fake, launch, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite is for one process")
    uids = list(range(7001, 7241))
    seed(db_url, [Person(u) for u in uids])
    env = {"WASL_TELEGRAM_RATE": "40"}
    launch("webhook", url=db_url, **env)
    launch("webhook", url=db_url, **env)
    started = time.monotonic()
    shell_broadcast(db_url, tmp_path)
    wait_finished(db_url, 1, timeout=60)
    elapsed = time.monotonic() - started
    calls = [c for c in fake.called("sendMessage") if c.status == 200]
    delivered = collections.Counter(str(c.params["chat_id"]) for c in calls)
    assert set(delivered) == {str(u) for u in uids} and set(delivered.values()) == {1}
    senders = collections.Counter(r.claimed_by for r in outbox(db_url, 1))
    assert len(senders) == 2, senders  # both processes took part
    # Together they keep to 40/s: on average over the whole broadcast, and in the busiest
    # second within the jitter of a loaded test machine (each at its own 40/s would be 80).
    # bench/broadcast.py measures the busiest second precisely.
    times = sorted(c.at for c in calls)
    busiest = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert busiest <= 40 * 1.25, busiest
    assert times[-1] - times[0] >= (len(uids) - 1) / 40 * 0.98
    assert elapsed >= len(uids) / 40


def test_the_shell_sends_it_with_a_progress_bar_when_no_bot_runs(fake, db, tmp_path):
    uids = list(range(9101, 9131))
    seed(db, [Person(u, requests=[("food_basket", "approved")]) for u in uids[:20]]
         + [Person(u) for u in uids[20:]])
    notice = tmp_path / "notice.txt"
    notice.write_text(TEXT, encoding="utf-8")
    args = ["broadcast", "--text-file", str(notice), "--segment", "status=approved"]
    dry = wasl(*args, "--dry-run", db=db).stdout
    assert "Recipients: 20" in dry and TEXT in dry
    assert broadcasts(db) == [] and fake.called("sendMessage") == []  # nothing written or sent

    env = {"WASL_TELEGRAM_TOKEN": TOKEN, "WASL_TELEGRAM_API_BASE": fake.url,
           "WASL_TELEGRAM_RATE": "20"}
    out = wasl(*args, "--yes", db=db, env=env).stdout
    assert "Announcement #1: done" in out
    assert re.search(r"│\s*20\s*│\s*20\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*0\s*│", out), out
    assert {str(c.params["chat_id"]) for c in fake.called("sendMessage")} == {
        str(u) for u in uids[:20]}
