"""Hostile and odd input, as a beneficiary would meet it through `wasl simulate`.

The standard: bad input never crashes and never loses data; the user gets a
clear message in their language, the conversation stays where it was, and
what they gave before is kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot import profiles
from tests.e2e.sim import NAME, Simulator, answer, resident_id, wasl

BAKKAH = profiles.load("bakkah")
FOOD = BAKKAH.service("food_basket")
ARABIC = re.compile("[\u0621-\u064a]")
HOSTILE = ["", "   \t  ", "\u200f\u200e\u2067\u2069\u200b", "ش" * 20_000, "😀🙏🌹",
           "<b>x</b>", "<img src=x onerror=alert(1)>", "'; DROP TABLE requests;--"]
OFFER = {"field": "escalate", "kind": "choice"}
NO_FILES = Path("/nonexistent")  # to_field stops before the first file question


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/w.db"


def turn(sim: Simulator, sender: str, **event) -> list[dict]:
    """One event; every output line before its ack is a reply to this sender."""
    out = sim.send(sender, **event)
    assert out and all(o.get("to") == sender and "ack" not in o for o in out), out
    return out


def refused(sim: Simulator, sender: str, expects: dict, **event) -> str:
    """A bad answer: one Arabic reply, and the same question again (after a 3rd miss at a
    field, the offer of a researcher is declined to get the question back)."""
    out = turn(sim, sender, **event)
    assert len(out) == 1 and ARABIC.search(out[0]["text"]), (event, out)
    if out[0]["expects"] == OFFER and expects != OFFER:
        out = turn(sim, sender, choice="retry")
    assert out[-1]["expects"] == expects, (str(event)[:80], out[-1]["text"][:200])
    return out[-1]["text"]


def refuse_all(sim: Simulator, sender: str, expects: dict, tmp_path: Path, *extra: dict) -> None:
    """Every hostile text, a stray choice id, a shared contact and a photo are refused."""
    png = tmp_path / "stray.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    events = [{"text": t} for t in HOSTILE] + [
        {"choice": "no_such_choice"}, {"contact": "+966501234567"},
        {"file": {"path": str(png), "name": "stray.png", "mime": "image/png"}}, *extra]
    for event in events:
        refused(sim, sender, expects, **event)


def where(sim: Simulator, sender: str) -> dict:
    """The question the conversation is at, asked again by /help (which changes nothing)."""
    return turn(sim, sender, text="/help")[-1]["expects"]


def to_field(sim: Simulator, sender: str, until: str, name: str = NAME,
             national_id: str = "1234567897") -> dict:
    """Consent, start a food basket request and answer up to the question `until`."""
    turn(sim, sender, text="السلام عليكم")
    turn(sim, sender, choice="accept")
    turn(sim, sender, choice="new_request")
    out = turn(sim, sender, choice="food_basket")
    given = {"full_name": {"text": name}, "national_id": {"text": national_id},
             "sensitive_consent": {"choice": "accept"}}
    while out[-1]["expects"]["field"] != until:
        key = out[-1]["expects"]["field"]
        out = turn(sim, sender, **given.get(key) or answer(FOOD.field(key), NO_FILES))
        assert out[-1]["expects"]["field"] != key, out[-1]["text"]
    return out[-1]


def finish(sim: Simulator, sender: str, tmp_path: Path, name: str = NAME) -> str:
    """Answer what is left, confirm, sign; the request number."""
    out = [{"expects": where(sim, sender)}]
    while (key := out[-1]["expects"]["field"]) != "acknowledgment":
        said = {"choice": "accept"} if key == "sensitive_consent" else answer(FOOD.field(key), tmp_path)
        out = turn(sim, sender, **said)
    assert turn(sim, sender, choice="confirm")[-1]["expects"]["field"] == "signature"
    done = turn(sim, sender, text=name)
    return re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)


def show(db: str, number: str) -> dict:
    return json.loads(wasl("requests", "show", number, "--json", db=db).stdout)


def test_odd_input_before_consent_asks_for_consent_again(sim, tmp_path):
    consent = {"field": "consent", "kind": "choice"}
    refuse_all(sim, "u1", consent, tmp_path, {"choice": "confirm"}, {"text": "999"})
    assert turn(sim, "u1", choice="accept")[-1]["expects"] == {"field": "menu", "kind": "choice"}


def test_odd_input_at_the_menu_shows_the_menu_again(sim, tmp_path):
    turn(sim, "u1", text="مرحبا")
    turn(sim, "u1", choice="accept")
    menu = {"field": "menu", "kind": "choice"}
    refuse_all(sim, "u1", menu, tmp_path, {"choice": "confirm"}, {"choice": "accept"},
               {"text": "0"}, {"text": "999"}, {"text": "٩"})
    assert turn(sim, "u1", text="١")[-1]["expects"]["field"] == "service"


def test_odd_input_at_the_national_id_keeps_the_name(sim, db, tmp_path):
    asked = to_field(sim, "u1", "national_id")
    refuse_all(sim, "u1", asked["expects"], tmp_path, {"text": "0"}, {"text": "999"},
               {"choice": "confirm"}, {"text": "١٢٣٤٥٦٧٨٩٠"}, {"text": "3234567897"})
    turn(sim, "u1", text="١٢٣٤٥٦٧٨٩٧")
    shown = show(db, finish(sim, "u1", tmp_path))
    assert shown["fields"]["full_name"] == NAME and shown["fields"]["national_id"] == "1234567897"


@pytest.mark.parametrize("typed", ["31/02/1446", "٣١/٠٢/١٤٤٦", "30/13/1446", "0/0/0000",
                                   "1/1/1", "29/02/2025", "31/12/9999", "01/01/1300 هـ"])
def test_impossible_dates_are_refused_and_asked_again(sim, typed):
    asked = to_field(sim, "u1", "id_expiry")
    refused(sim, "u1", asked["expects"], text=typed)
    assert where(sim, "u1") == asked["expects"]


def test_odd_input_at_a_date_keeps_the_earlier_answers(sim, db, tmp_path):
    asked = to_field(sim, "u1", "id_expiry")
    refuse_all(sim, "u1", asked["expects"], tmp_path, {"text": "999"}, {"choice": "skip"})
    shown = show(db, finish(sim, "u1", tmp_path))
    assert shown["fields"]["full_name"] == NAME and shown["fields"]["national_id"] == "1234567897"


def test_numbers_out_of_range_are_refused(sim, db, tmp_path):
    asked = to_field(sim, "u1", "family_size")
    for typed in ["0", "999", "٠", "٩٩٩", "-3", "2.5", "1e3", "9" * 5000]:
        refused(sim, "u1", asked["expects"], text=typed)
    turn(sim, "u1", text="٤")
    shown = show(db, finish(sim, "u1", tmp_path))
    assert shown["fields"]["family_size"] == 4 and shown["fields"]["full_name"] == NAME


def test_unknown_options_at_a_choice_field_are_refused(sim, db, tmp_path):
    asked = to_field(sim, "u1", "income_source")
    refuse_all(sim, "u1", asked["expects"], tmp_path, {"text": "0"}, {"text": "999"},
               {"choice": "confirm"}, {"choice": "food_basket"}, {"choice": "salary "})
    turn(sim, "u1", choice="salary")
    shown = show(db, finish(sim, "u1", tmp_path))
    assert shown["fields"]["income_source"] == "salary"
    assert shown["fields"]["family_size"] == 2 and shown["fields"]["full_name"] == NAME


def test_bad_files_are_refused_and_none_is_kept(sim, db, tmp_path):
    asked = to_field(sim, "u1", "id_photo")
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")  # a real PNG signature, then 11 MB
        f.truncate(11 * 1024 * 1024)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ" + b"\0" * 64)  # a Windows program
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    too_big = refused(sim, "u1", asked["expects"],
                      file={"path": str(big), "name": "big.png", "mime": "image/png"})
    assert "10" in too_big
    for event in [{"file": {"path": str(exe), "name": "tool.exe",
                            "mime": "application/x-msdownload"}},
                  {"file": {"path": str(exe), "name": "tool.exe"}},
                  {"file": {"path": str(exe), "name": "photo.png", "mime": "image/png"}},
                  {"file": {"path": str(empty), "name": "empty.png", "mime": "image/png"}},
                  {"contact": "+966501234567"}, {"choice": "confirm"},
                  *({"text": t} for t in HOSTILE)]:
        refused(sim, "u1", asked["expects"], **event)
    line = json.dumps({"from": "u1", "file": {"path": str(tmp_path), "mime": "image/png"}})
    assert [set(o) for o in sim.raw(line)] == [{"error", "line"}]  # a directory
    assert where(sim, "u1") == asked["expects"]
    shown = show(db, finish(sim, "u1", tmp_path))
    assert [d["name"] for d in shown["documents"]] == ["photo.png"]
    assert shown["fields"]["full_name"] == NAME


def test_odd_input_at_the_summary_keeps_every_answer(sim, db, tmp_path):
    to_field(sim, "u1", "id_photo")
    summary = turn(sim, "u1", **answer(FOOD.field("id_photo"), tmp_path))[-1]
    refuse_all(sim, "u1", summary["expects"], tmp_path, {"choice": "accept"},
               {"choice": "new_request"}, {"text": "0"}, {"text": "999"})
    again = turn(sim, "u1", text="/help")[-1]
    assert again["text"] == summary["text"] and again["expects"]["field"] == "acknowledgment"
    shown = show(db, finish(sim, "u1", tmp_path))
    assert shown["fields"]["full_name"] == NAME and shown["fields"]["national_id"] == "1234567897"


def test_odd_input_at_the_signature_submits_nothing(sim, db, tmp_path):
    to_field(sim, "u1", "id_photo")
    turn(sim, "u1", **answer(FOOD.field("id_photo"), tmp_path))
    signature = turn(sim, "u1", choice="confirm")[-1]["expects"]
    refuse_all(sim, "u1", signature, tmp_path, {"choice": "confirm"}, {"text": "٤"},
               {"text": NAME[:-1]}, {"text": NAME + " " + "ش" * 20_000})
    assert json.loads(wasl("requests", "list", "--json", db=db).stdout) == []
    done = turn(sim, "u1", text="\u200f" + NAME + "  ")
    number = re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)
    shown = show(db, number)
    assert shown["fields"]["full_name"] == NAME and shown["acknowledgment"]["hash_matches"]


def test_markup_and_sql_in_a_name_are_kept_verbatim(sim, db, tmp_path):
    name = "<img src=x onerror=alert(1)> '; DROP TABLE requests;--"
    to_field(sim, "u1", "national_id", name=name)
    shown = show(db, finish(sim, "u1", tmp_path, name=name))
    assert shown["fields"]["full_name"] == name
    assert len(json.loads(wasl("requests", "list", "--json", db=db).stdout)) == 1


def test_lines_that_are_not_events_get_an_error_and_the_chat_stays(sim):
    asked = to_field(sim, "u1", "id_expiry")
    for line in ["{not json", "[1, 2]", '["from", "u1"]', '{"from": "u1", "text": 5}',
                 '{"from": "u1"}', '{"from": null, "text": "x"}', "null", '"u1"']:
        out = sim.raw(line)
        assert [set(o) for o in out] == [{"error", "line"}] and out[0]["line"] == sim.line_no
    for blank in ["", "   "]:  # not JSON either: the contract says error, then ack
        assert [set(o) for o in sim.raw(blank)] == [{"error", "line"}]
    assert where(sim, "u1") == asked["expects"]


def test_a_numeric_sender_is_a_beneficiary_of_its_own(sim):
    asked = to_field(sim, "u1", "id_expiry")
    out = sim.raw('{"from": 5, "text": "x"}')
    assert out[0]["to"] == "5" and out[0]["expects"]["field"] == "consent"
    assert where(sim, "u1") == asked["expects"]


def test_a_line_delivered_twice_is_handled_once(sim, db, tmp_path):
    asked = to_field(sim, "u1", "national_id")
    line = json.dumps({"from": "u1", "text": "1234567897", "update_id": 4242})
    first = sim.raw(line)
    assert first[-1]["expects"]["field"] == "id_expiry"
    assert sim.raw(line) == []  # only the ack
    assert where(sim, "u1")["field"] == "id_expiry" != asked["expects"]["field"]
    turn(sim, "u1", **answer(FOOD.field("id_expiry"), tmp_path))
    assert where(sim, "u1")["field"] == "mobile"


def test_two_beneficiaries_interleaved_stay_apart(sim, db, tmp_path):
    other, other_id = "فاطمة سعد علي القحطاني", resident_id()
    to_field(sim, "a", "id_expiry")
    to_field(sim, "b", "national_id", name=other, national_id=other_id)
    assert turn(sim, "a", **answer(FOOD.field("id_expiry"), tmp_path))[-1]["expects"]["field"] \
        == "mobile"
    assert turn(sim, "b", text="٠٥٥٥٥٥٥٥٥٥")[-1]["expects"]["field"] == "national_id"
    assert turn(sim, "b", text=other_id)[-1]["expects"]["field"] == "id_expiry"
    assert where(sim, "a")["field"] == "mobile"
    mine, theirs = finish(sim, "a", tmp_path), finish(sim, "b", tmp_path, name=other)
    a, b = show(db, mine), show(db, theirs)
    assert (a["beneficiary"], a["fields"]["full_name"], a["fields"]["national_id"]) == (
        "a", NAME, "1234567897")
    assert (b["beneficiary"], b["fields"]["full_name"], b["fields"]["national_id"]) == (
        "b", other, other_id)
    status = " ".join(o["text"] for o in turn(sim, "a", text="/status"))
    assert mine in status and theirs not in status


# Lines that once killed the simulator: each now gets an error line and the run goes on.

def _survives(sim: Simulator, line: str) -> None:
    assert [set(o) for o in sim.raw(line)] == [{"error", "line"}]
    assert turn(sim, "u1", text="مرحبا")[-1]["expects"]["field"] == "consent"


def test_deeply_nested_json_is_an_error(sim):
    _survives(sim, "[" * 100_000 + "]" * 100_000)


def test_a_huge_number_is_an_error(sim):
    _survives(sim, '{"from": ' + "1" * 5000 + ', "text": "x"}')


def test_a_file_name_that_is_not_text_is_an_error(sim, tmp_path):
    (tmp_path / "p.png").write_bytes(b"\x89PNG")
    _survives(sim, json.dumps({"from": "u1", "file": {"path": str(tmp_path / "p.png"),
                                                      "name": 5}}))


def test_a_file_path_with_a_lone_surrogate_is_an_error(sim):
    _survives(sim, '{"from": "u1", "file": {"path": "/tmp/x\\ud800.png"}}')


def test_fullwidth_digits_in_a_national_id(sim):
    asked = to_field(sim, "u1", "national_id")
    out = turn(sim, "u1", text="１２３４５６７８９７")
    assert out[-1]["expects"] != asked["expects"], out[-1]["text"]


def test_an_unknown_command_asks_the_question_again(sim):
    asked = to_field(sim, "u1", "national_id")
    out = turn(sim, "u1", text="/file صورة.jpg")
    assert ARABIC.search(out[0]["text"]) and "/help" in out[0]["text"]
    assert out[-1]["expects"] == asked["expects"]


@pytest.mark.parametrize("line", [
    '{"from": "", "text": "x"}', '{"from": true, "text": "x"}',
    '{"from": "u1", "text": "\\ud800"}', '{"from": "u1", "text": 5}',
])
def test_unusable_senders_and_texts_are_errors_not_apologies(sim, line):
    _survives(sim, line)
