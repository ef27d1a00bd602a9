"""The web chat's transcript in storage (both engines): order and resumption, the
documents a chat may open, the language it is spoken in, and retention."""

from __future__ import annotations

from datetime import timedelta

from storage import models as m
from tests.conftest import NOW


async def test_history_resumes_after_the_last_message_the_page_has(database):
    async with database.unit_of_work() as uow:
        ids = [await uow.web_add("a" * 40, "out" if n % 2 else "in", {"text": str(n)}, NOW)
               for n in range(5)]
        await uow.web_add("b" * 40, "out", {"text": "someone else"}, NOW)
    async with database.unit_of_work() as uow:
        everything = await uow.web_messages("a" * 40)
        later = await uow.web_messages("a" * 40, after=ids[2])
        latest_two = await uow.web_messages("a" * 40, limit=2)
    assert [r.payload["text"] for r in everything] == ["0", "1", "2", "3", "4"]
    assert [r.payload["text"] for r in later] == ["3", "4"]
    assert [r.payload["text"] for r in latest_two] == ["3", "4"]  # the newest, oldest first


async def test_a_chat_opens_only_the_documents_sent_to_it(database):
    async with database.unit_of_work() as uow:
        doc = m.Document(beneficiary_id=None, request_id=None, field_key="broadcast",
                         name="eid.png", mime="image/png", size=3, sha256="0" * 64,
                         content=b"png", created_at=NOW)
        await uow.add_document(doc)
        await uow.web_add("a" * 40, "out", {"text": "", "file": {"name": "eid.png"}}, NOW, doc.id)
        await uow.web_add("b" * 40, "in", {"text": "", "file": {"name": "eid.png"}}, NOW, doc.id)
    async with database.unit_of_work() as uow:
        assert (await uow.web_document("a" * 40, doc.id)).content == b"png"
        assert await uow.web_document("b" * 40, doc.id) is None  # "in" rows grant nothing
        assert await uow.web_document("c" * 40, doc.id) is None
        assert await uow.web_document("a" * 40, doc.id + 1) is None


async def test_the_language_is_the_conversations_and_unknown_before_it_is_saved(database):
    async with database.unit_of_work() as uow:
        assert await uow.conversation_language("web", "a" * 40) is None
        await uow.save_conversation("web", "a" * 40, None, {"step": "menu", "lang": "en"}, NOW)
    async with database.unit_of_work() as uow:
        assert await uow.conversation_language("web", "a" * 40) == "en"
        assert await uow.conversation_language("telegram", "a" * 40) is None


async def test_retention_deletes_only_what_is_older_than_the_limit(database):
    async with database.unit_of_work() as uow:
        await uow.web_add("a" * 40, "in", {"text": "old"}, NOW - timedelta(days=181))
        await uow.web_add("a" * 40, "out", {"text": "recent"}, NOW - timedelta(days=179))
    async with database.unit_of_work() as uow:
        assert await uow.web_purge(NOW - timedelta(days=180)) == 1
    async with database.unit_of_work() as uow:
        assert [r.payload["text"] for r in await uow.web_messages("a" * 40)] == ["recent"]
