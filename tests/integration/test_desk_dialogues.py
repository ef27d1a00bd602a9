"""The staff desk as multi-party dialogues written as data (desk_dialogues/*.yaml; the
format is described in desk_room.py), through the real router on each configured engine."""

from __future__ import annotations

import pytest

from tests.integration.desk_room import (
    DeskRoom,
    Dialogue,
    dialogue_from,
    load_dialogues,
    load_snippets,
    params,
    play,
    read_yaml,
)


@pytest.mark.parametrize("dialogue", list(params()))
async def test_desk_dialogue(dialogue: Dialogue, database, bakkah, translations):
    room = await DeskRoom.open(database, bakkah, translations, dialogue)
    await play(room, dialogue)


def test_every_dialogue_file_loads():
    """A mistake in the data (an unknown key, a missing snippet) is named with its file."""
    assert load_dialogues()


# Each of these must fail, or the checks above could pass without looking.
WRONG = {
    "a text that was not sent": ("did not get", """
        steps:
          - b1: السلام عليكم
            expect: {b1: this text is not in the welcome}"""),
    "something sent to a party that should get nothing": ("was sent something", """
        steps:
          - b1: السلام عليكم
            expect: {b1: nothing}"""),
    "others: nothing, with the staff group told": ("someone else", """
        steps:
          - use: asks for a researcher
            who: b1
            case: case
            expect: {others: nothing}"""),
    "a string a party must never get": ("must never get", """
        never: {b1: [جمعية بكة]}
        steps:
          - b1: السلام عليكم"""),
    "buttons that were not offered": ("was offered", """
        steps:
          - b1: السلام عليكم
            expect: {b1: {buttons: [Yes, No]}}"""),
    "an audit entry that was not written": ("no audit entry", """
        steps:
          - r1: /audit
            audit: [{actor: r1, action: audit, allowed: true}]"""),
    "a case status that is not so": ("is claimed, not queued", """
        steps:
          - {use: asks for a researcher, who: b1, case: case}
          - r1: /claim {case}
            db: [{case: "{case}", status: queued}]"""),
    "a race with two winners": ("not exactly one", """
        steps:
          - {use: asks for a researcher, who: b1, case: case}
          - together:
              - r1: /queue
              - r2: /queue
            race: {among: [r1, r2], winner: "#{case}"}"""),
    "a step marked xfail that passes": ("remove the mark", """
        steps:
          - b1: السلام عليكم
            xfail: it does not fail"""),
}


@pytest.mark.parametrize(("says", "text"), list(WRONG.values()), ids=list(WRONG))
async def test_a_wrong_expectation_fails(says, text, database, bakkah, translations):
    dialogue = dialogue_from(read_yaml(text)[0], "test", load_snippets())
    room = await DeskRoom.open(database, bakkah, translations, dialogue)
    with pytest.raises(pytest.fail.Exception, match=says):
        await play(room, dialogue)
