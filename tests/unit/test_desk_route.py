"""Where a staff event goes (desk.route), as a table: the private chat and the staff
group's case topics, a number alone, the announcement composer. The authorization of each
command is Desk.execute's and is tested through the router (tests/integration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations import desk
from conversations.base import CaseView, Event

ME, OTHER = 7, 8
T = datetime(2026, 11, 23, 9, tzinfo=UTC)


def case(status: str, holder: int | None = None) -> CaseView:
    return CaseView(5, status, "asked", None, 1, "telegram", T, claimed_by=holder)


def text(t: str) -> Event:
    return Event("text", text=t)


def private(**kw) -> desk.DeskState:
    return desk.DeskState("researcher", ME, **kw)


def topic(c: CaseView | None) -> desk.DeskState:
    return desk.DeskState("researcher", ME, in_group=True, topic_case=c)


Claim5, Close = desk.Run(desk.Command("/claim", "5")), desk.Run(desk.Command("/close"))

TABLE = [
    # private chat
    ("words go to the current case", private(), text("أهلًا"), (desk.Relay(text("أهلًا")),)),
    ("a command runs", private(), text("/find احمد"), (desk.Run(desk.Command("/find", "احمد")),)),
    ("a button runs", private(), Event("choice", choice="claim:5"), (Claim5,)),
    ("a number presses the button with that number", private(choices=("claim:4", "claim:5")),
     text("٢"), (Claim5,)),
    ("#2 presses it too", private(choices=("claim:4", "claim:5")), text("#2"), (Claim5,)),
    ("a number with no button is held back", private(choices=("claim:4",)), text("3"),
     (desk.NumberHint("3"),)),
    ("a number and words are a message", private(), text("3 أكياس"),
     (desk.Relay(text("3 أكياس")),)),
    ("/say sends a number", private(), text("/say 3"), (desk.Run(desk.Command("/say", "3")),)),
    ("an admin composing: the text is the announcement",
     desk.DeskState("admin", ME, composing=True), text("التوزيع الأحد"),
     (desk.Compose(text("التوزيع الأحد")),)),
    ("composing, a command still runs", desk.DeskState("admin", ME, composing=True),
     text("/queue"), (desk.Run(desk.Command("/queue")),)),
    # the staff group
    ("group talk about no case is not the desk's", topic(None), text("صباح الخير"), ()),
    ("a search in the group, outside any topic", topic(None), text("/find احمد"),
     (desk.Run(desk.Command("/find", "احمد")),)),
    ("a case's own command outside any topic does nothing", topic(None), text("/close"), ()),
    ("writing in a waiting case's topic takes it, then relays", topic(case("queued")),
     text("أهلًا"), (Claim5, desk.Relay(text("أهلًا")))),
    ("closing a waiting case's topic takes it, then closes", topic(case("queued")),
     text("/close"), (Claim5, Close)),
    ("take in a waiting topic takes it once", topic(case("queued")), Event("choice", choice="claim:5"),
     (Claim5,)),
    ("a note in a waiting topic takes it first", topic(case("queued")), text("/note اتصلت"),
     (Claim5, desk.Run(desk.Command("/note", "اتصلت")))),
    ("the holder's words are relayed", topic(case("claimed", ME)), text("تفضل"),
     (desk.Relay(text("تفضل")),)),
    ("another's case: words are refused", topic(case("claimed", OTHER)), text("تفضل"),
     (desk.Refuse("held by another researcher"),)),
    ("another's case: close is refused", topic(case("claimed", OTHER)), text("/close"),
     (desk.Refuse("held by another researcher"),)),
    ("another's case: the file can be read", topic(case("claimed", OTHER)),
     Event("choice", choice="file:5"), (desk.Run(desk.Command("/file")),)),
    ("another's case: a search works as in private", topic(case("claimed", OTHER)),
     text("/find 0501234567"), (desk.Run(desk.Command("/find", "0501234567")),)),
    ("a number alone in a topic is never relayed", topic(case("claimed", ME)), text("2"),
     (desk.NumberHint("2"),)),
    ("a closed case's topic says it is closed", topic(case("closed")), text("تفضل"), (Claim5,)),
]


@pytest.mark.parametrize(("state", "event", "expected"), [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_route(state, event, expected):
    assert desk.route(state, event) == expected
