"""What is held about one beneficiary (storage/subject_store.py), on each engine: destruction
reaches what the end-to-end test does not (a rating given with a name, a researcher's open
case, the web chat's transcript), and a cancelled draft takes only its own files."""

from __future__ import annotations

from sqlalchemy import func, select

from storage import models as m
from tests.conftest import NOW

PHOTO = b"\x89PNG\r\n\x1a\n" + b"7" * 40


async def _person(uow, sender: str, channel: str = "web") -> int:
    person = await uow.add_beneficiary(channel, sender, sender, "ar", NOW)
    await uow.add_consent(person, "beneficiary_services", "v1/ar", "ar", channel, NOW)
    return person


def _doc(person: int, field: str) -> m.Document:
    return m.Document(beneficiary_id=person, field_key=field, name=f"{field}.png",
                      mime="image/png", size=len(PHOTO), sha256=field.ljust(64, "0"),
                      content=PHOTO, created_at=NOW)


async def test_a_cancelled_draft_takes_its_own_files_only(database):
    async with database.unit_of_work() as uow:
        person = await _person(uow, "chat-a")
        for field in ("id_photo", "case", "feedback", "data_copy"):
            await uow.add_document(_doc(person, field))
        await uow.discard_draft_documents(person)
        left = (await uow.session.execute(select(m.Document.field_key).where(
            m.Document.beneficiary_id == person).order_by(m.Document.field_key))).scalars().all()
    assert left == ["case", "data_copy", "feedback"]  # the researcher still has the case's file


async def test_destruction_reaches_ratings_open_cases_and_the_web_transcript(database):
    async with database.unit_of_work() as uow:
        gone = await _person(uow, "chat-gone")
        kept = await _person(uow, "chat-kept")
        staff = m.Staff(channel="sim", sender_id="r1", name="Noura", role="researcher",
                        created_at=NOW)
        uow.session.add(staff)
        await uow.session.flush()
        case = m.Case(beneficiary_id=gone, status="claimed", reason="asked", channel="web",
                      created_at=NOW, claimed_by=staff.id)
        uow.session.add(case)
        await uow.session.flush()
        staff.current_case_id = case.id
        uow.session.add(m.CaseMessage(case_id=case.id, direction="in", text="رقم جوالي 0551112222",
                                      at=NOW))
        survey = m.Survey(subject="case:1", kind="case", beneficiary_id=gone, status="answered",
                          sent_at=NOW, expires_at=NOW, staff_id=staff.id)
        uow.session.add(survey)
        await uow.session.flush()
        uow.session.add(m.SurveyAnswer(survey_id=survey.id, kind="case", staff_id=staff.id,
                                       rating=2, comment="تأخر الرد علي كثيرا", extra={},
                                       anonymous=False, language="ar", channel="web",
                                       answered_on=NOW.date(), answered_at=NOW))
        for chat in ("chat-gone", "chat-kept"):
            await uow.web_add(chat, "in", {"text": f"رسالة من {chat}"}, NOW)
        await uow.add_document(_doc(kept, "id_photo"))
        for person in (gone, kept):  # a correction waiting for staff holds the new value
            uow.session.add(m.PrivacyRequest(
                beneficiary_id=person, kind="correction", status="open", created_at=NOW,
                due_on=NOW.date(), detail='{"number": "BK-1", "field": "mobile", '
                                          '"value": "+966551112222"}'))
        done = await uow.subject.destroy(gone, NOW, lambda actor: "web:#hash")
    assert done.held == () and done.removed["cases"] == 1 and done.removed["identities"] == 1
    async with database.session() as session:
        [answer] = (await session.execute(select(m.SurveyAnswer))).scalars().all()
        # the rating stays for the board, with nothing that leads back to them
        assert (answer.rating, answer.anonymous, answer.survey_id, answer.comment,
                answer.answered_at, answer.staff_id) == (2, True, None, None, None, None)
        researcher = (await session.execute(select(m.Staff))).scalar_one()
        assert researcher.current_case_id is None  # no open case of nobody
        chats = (await session.execute(select(m.WebMessage.chat_id))).scalars().all()
        assert chats == ["chat-kept"]
        tomb = await session.get(m.Beneficiary, gone)
        assert tomb is not None and tomb.destroyed_at is not None and tomb.file_number is None
        for model in (m.Consent, m.Identity, m.Document, m.PrivacyRequest):
            count = await session.scalar(select(func.count()).select_from(model).where(
                model.beneficiary_id == gone))
            assert count == 0, model
            kept_count = await session.scalar(select(func.count()).select_from(model).where(
                model.beneficiary_id == kept))
            assert kept_count == 1, model  # the other's data is all there


async def test_a_withdrawn_consent_is_marked_once(database):
    async with database.unit_of_work() as uow:
        person = await _person(uow, "chat-w")
        await uow.add_consent(person, "sensitive_data", "s1/ar", "ar", "web", NOW)
        assert await uow.subject.withdraw(person, "sensitive_data", NOW) == 1
        assert await uow.subject.withdraw(person, "sensitive_data", NOW) == 0  # already
        rows = (await uow.session.execute(select(m.Consent.purpose, m.Consent.withdrawn_at).where(
            m.Consent.beneficiary_id == person).order_by(m.Consent.id))).all()
    assert [(p, w is not None) for p, w in rows] == [("beneficiary_services", False),
                                                     ("sensitive_data", True)]


async def test_a_correction_is_answered_once_with_its_outcome_kept(database):
    async with database.unit_of_work() as uow:
        person = await _person(uow, "chat-c")
        asked = m.PrivacyRequest(beneficiary_id=person, kind="correction", status="open",
                                 created_at=NOW, due_on=NOW.date(),
                                 detail='{"number": "BK-1", "field": "mobile", "value": "x"}')
        uow.session.add(asked)
        await uow.session.flush()
        assert await uow.subject.answer(asked.id, NOW, "rejected", "لا يطابق المستند")
        assert not await uow.subject.answer(asked.id, NOW, "approved")  # a colleague, later
        facts = await uow.subject.everything(person)
    [told] = facts["data_requests"]
    assert (told["status"], told["correction"]["outcome"], told["correction"]["value"]) == (
        "done", "rejected", "x")
