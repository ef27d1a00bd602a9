"""The bot's knowledge as it stands: the profile's own topics and the answers staff
taught, rebuilt when the taught answers change (in this process or another one)."""

from __future__ import annotations

from conversations.knowledge import Encoder, Knowledge, topics
from conversations.profile import Profile
from storage.repositories import UnitOfWork


class Answers:
    def __init__(self, profile: Profile, encoder: Encoder | None) -> None:
        self.profile, self.encoder = profile, encoder
        self.knowledge = Knowledge(topics(profile), encoder)
        self.version: tuple[int, int] = (0, 0)  # nothing taught

    async def current(self, uow: UnitOfWork) -> Knowledge:
        """The knowledge to answer with now: one small query, and a rebuild (new phrasings
        only are encoded) when an answer was taught or removed since the last look."""
        version = await uow.faq.version()
        if version != self.version:
            taught = [(t.id, t.questions, t.answer, t.language) for t in await uow.faq.taught()]
            self.knowledge = Knowledge(topics(self.profile, taught), self.encoder,
                                       self.knowledge.tuning, self.knowledge.cache)
            self.version = version
        return self.knowledge
