"""Volunteers' sign-ups in storage, on each engine: one per beneficiary (signing up again
replaces it), sealed at rest, in the beneficiary's copy of their data, reached by the
"volunteers" segment, destroyed with the rest of their data and after the profile's
`volunteering.keep_days`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from conversations.broadcast import Segment
from handlers.broadcasts import audience
from storage import retention
from tests.conftest import NOW

ANSWERS = {"name": "ريم سعد الحربي", "mobile": "+966551112233", "skills": "التصميم",
           "availability": "weekends", "district": "رابغ"}


async def test_a_sign_up_is_kept_sealed_replaced_reached_copied_and_destroyed(database, bakkah):
    async with database.unit_of_work() as uow:
        reem = await uow.add_beneficiary("sim", "reem", "reem", "ar", NOW)
        other = await uow.add_beneficiary("sim", "other", "other", "ar", NOW)
        assert await uow.volunteers.sign_up(reem, ANSWERS, "ar", "sim", NOW) is False
        later = {**ANSWERS, "skills": "التصميم والتصوير"}
        assert await uow.volunteers.sign_up(reem, later, "ar", "sim", NOW + timedelta(days=1))
    async with database.unit_of_work() as uow:
        [shown] = await uow.volunteers.everyone()
        assert (shown.beneficiary_id, shown.answers["skills"]) == (reem, "التصميم والتصوير")
        raw = (await uow.session.execute(text("SELECT answers FROM volunteers"))).scalar_one()
        assert "التصميم" not in str(raw) and "966551112233" not in str(raw)  # sealed at rest
        reached, _ = await audience(uow, Segment(volunteers=True))
        assert [r.beneficiary_id for r in reached] == [reem]
        everyone, _ = await audience(uow, Segment())
        assert {r.beneficiary_id for r in everyone} == {reem, other}
        copy = await uow.subject.everything(reem)
        assert copy["volunteering"][0]["answers"]["skills"] == "التصميم والتصوير"
        assert (await uow.subject.everything(other))["volunteering"] == []
        destroyed = await uow.subject.destroy(reem, NOW, lambda actor: "x")
        assert destroyed.removed["volunteers"] == 1
    async with database.unit_of_work() as uow:
        assert await uow.volunteers.everyone() == []


async def test_a_sign_up_goes_after_the_profiles_period(database, bakkah):
    keep = bakkah.volunteering.keep_days
    async with database.unit_of_work() as uow:
        reem = await uow.add_beneficiary("sim", "reem", "reem", "ar", NOW)
        await uow.volunteers.sign_up(reem, ANSWERS, "ar", "sim", NOW)
    async with database.unit_of_work() as uow:
        kinds = await retention.run(uow, bakkah.retention, NOW + timedelta(days=keep - 1), True,
                                    keep)
        assert {k.key: k.count for k in kinds}["volunteers_days"] == 0
        kinds = await retention.run(uow, bakkah.retention, NOW + timedelta(days=keep + 1), False,
                                    keep)
        assert {k.key: k.count for k in kinds}["volunteers_days"] == 1
    async with database.unit_of_work() as uow:
        assert await uow.volunteers.everyone() == []
