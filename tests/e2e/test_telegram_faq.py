"""The bot's own answers on Telegram (the real bot process with the bundled model, against
the local fake Bot API): answered in a private chat, and mid-request the "did this help?"
buttons still work on their message after the question is asked again below it."""

from __future__ import annotations

import pytest

from tests.e2e.telegram_bot import User, WaslProcess, buttons


@pytest.fixture
def bot(fake, tmp_path):
    proc = WaslProcess(fake, f"sqlite:///{tmp_path}/wasl.db", "ptb", "polling",
                       tmp_path / "bot.log", WASL_FAQ="model").start()
    yield proc
    proc.stop()


def test_a_question_mid_request_on_telegram(fake, bot):
    user = User(fake, bot)
    user.say("/start")
    user.press("accept")
    user.press("new_request")
    asked = user.press("food_basket")[-1]
    replies = user.say("متى تفتحون؟")
    assert "08:00" in replies[0]["text"]  # the hours, from the profile
    check, again = replies[-2], replies[-1]
    assert buttons(check)[:2] == ["c:faq_yes", "c:human"]
    assert again["text"] == asked["text"]  # the same question, last
    # pressed on the earlier message: not a stale press
    stored = [m for (chat, _), m in fake.messages.items()
              if chat == str(user.uid) and m.get("text") == check["text"]]
    after = user.press("faq_yes", message={**stored[-1], "reply_markup": check["reply_markup"]})
    assert "رسالة سابقة" not in after[0]["text"]
    assert after[-1]["text"] == asked["text"]
