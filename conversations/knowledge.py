"""Finding what a beneficiary's question is about, on this machine, in Arabic first.

Every answerable thing is a `Topic`: what the profile itself answers (its services, the
documents each needs, hours, channels...: phrasings in topics.yaml), the association's
own FAQ (`faq:` in the profile) and what staff taught. A question is folded (hamza, taa
marbuta, tashkeel, digits: conversations/text.py), its dialect words mapped to common ones
and its words stemmed, then two scores are combined: BM25 over the phrasings (bm25s) and
the cosine of sentence embeddings from a multilingual model shipped inside a PyPI package
(bot/encoder.py). A `Match` says whether the best topic is sure enough to answer: a wrong
confident answer is worse than passing the question to a researcher.

Pure computation: no I/O, no clock; the encoder is given (or absent: lexical only).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, Protocol

import bm25s
import numpy as np
import Stemmer
import yaml

from conversations.profile import Profile
from conversations.text import fold

Kind = Literal["answer", "ask_back", "out_of_scope", "smalltalk"]
TOPICS_FILE = Path(__file__).with_name("topics.yaml")


class Encoder(Protocol):
    """Sentence embeddings: one L2-normalised row per text."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Topic:
    """One thing the bot can say in reply to a question. `key` is what a simulator line
    reports as `answered`: "hours", "service.food_basket", "faq.fees", "taught.7"."""

    key: str
    kind: Kind
    phrasings: tuple[str, ...]
    service: str | None = None  # the request this topic is about (a button to start it)
    answer: str | None = None  # a taught answer's own words (others are written from the profile)
    lang: str | None = None  # a taught answer's language: given to those who speak it


@dataclass(frozen=True)
class Match:
    """The best topic for a question and how sure the bot is of it."""

    topic: Topic | None
    confidence: float
    confident: bool
    lexical: float = 0.0
    semantic: float = 0.0
    runner_up: Topic | None = None


@dataclass(frozen=True)
class Tuning:
    """How the scores combine and where answering starts (bench/faq.py measures them).
    A topic's rank weighs the cosine (semantic), BM25 over its phrasings one by one and
    over all of them together (each relative to the best topic's), and coverage (the
    share of the question's rare words its closest phrasing has)."""

    semantic: float = 0.5
    phrasing_bm25: float = 0.15
    topic_bm25: float = 0.15
    coverage: float = 0.2
    threshold: float = 0.68  # the rank a topic needs to be answered
    margin: float = 0.06  # of rank over the best topic that would say something else
    smalltalk_words: int = 6  # a greeting or thanks longer than this is a message


# Dialect and spelling variants mapped to one word (after folding), so that BM25 sees
# "وش الاوراق" and "ما الاوراق" alike. Matching data, never shown.
_SAME = {
    "وش": "ما", "ايش": "ما", "شو": "ما", "اش": "ما", "وشو": "ما", "ماهي": "ما", "ماهو": "ما",
    "ابي": "اريد", "ابغى": "اريد", "ابغي": "اريد", "ودي": "اريد", "بغيت": "اريد", "ابا": "اريد",
    "وين": "اين", "فين": "اين", "شلون": "كيف", "ليش": "لماذا", "مين": "من", "متى": "متي",
    "اقدر": "استطيع", "يصير": "يمكن", "ممكن": "يمكن", "فيه": "يوجد",
    "عشان": "ل", "علشان": "ل", "حق": "ل", "الحين": "الان", "وقتيش": "متي",
    "اوراق": "مستندات", "الاوراق": "مستندات", "وثايق": "مستندات", "الوثايق": "مستندات",
    "الوثائق": "مستندات", "وثائق": "مستندات", "ورق": "مستندات",
    "الدوام": "دوام", "تفتحون": "دوام", "تقفلون": "دوام", "تسكرون": "دوام",
}
_STOP = {"ل", "في", "من", "على", "عن", "الى", "انا", "انتم", "لكم", "عندكم", "و", "يا", "لو",
         "the", "a", "an", "to", "of", "for", "is", "are", "i", "me", "my", "you", "your",
         "do", "does", "can", "please", "and", "in", "on", "it", "be"}
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_WORD = re.compile(r"\w+")


@cache
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("arabic"), Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """The words of a question as BM25 compares them: folded, dialect mapped, stemmed."""
    arabic, english = _stemmers()
    out = []
    for word in _WORD.findall(fold(text).replace("_", " ")):
        word = _SAME.get(word, word)
        if word in _STOP:
            continue
        if word.isascii():
            out.append(english.stemWord(word))
            continue
        for prefix in _PREFIXES:  # the article and its clitics: "والاوراق" -> "اوراق"
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = _SAME.get(word[len(prefix):], word[len(prefix):])
                break
        out.append(arabic.stemWord(word))
    return out


@cache
def _builtin() -> dict[str, dict]:
    return yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))


def topics(profile: Profile,
           taught: Iterable[tuple[int, Sequence[str], str, str]] = ()) -> list[Topic]:
    """Everything a profile can answer: the built-in topics (one per service for those
    about a service), its FAQ, and what staff taught (id, phrasings, answer, language)."""
    found: list[Topic] = []
    for key, spec in _builtin().items():
        written = [*spec.get("ar", ()), *spec.get("en", ())]
        if key in ("service", "documents_for"):
            for s in profile.services:
                names = {s.label.ar, s.label.en or s.label.ar}
                about = {s.description.ar, s.description.en or s.description.ar} \
                    if s.description else set()
                said = {p.format(service=n, about=a) for p in written for n in names
                        for a in (about or {""}) if "{about}" not in p or about}
                found.append(Topic(f"{key}.{s.key}", spec["kind"], tuple(sorted(said)), s.key))
        else:
            found.append(Topic(key, spec["kind"], tuple(written)))
    for entry in profile.faq:
        found.append(Topic(f"faq.{entry.key}", "out_of_scope" if entry.declines else "answer",
                           (*entry.questions.ar, *entry.questions.en), entry.service))
    for number, phrasings, answer, lang in taught:
        found.append(Topic(f"taught.{number}", "answer", tuple(phrasings), answer=answer,
                           lang=lang))
    return found


@dataclass
class Knowledge:
    """The searchable form of a profile's topics, built once (and again when staff teach)."""

    topics: list[Topic]
    encoder: Encoder | None = None
    tuning: Tuning = field(default_factory=Tuning)
    # phrasing -> its embedding, from an earlier build: only new phrasings are encoded
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._owner: list[int] = []  # phrasing -> topic index
        texts: list[str] = []
        for n, topic in enumerate(self.topics):
            for p in topic.phrasings:
                self._owner.append(n)
                texts.append(p)
        self._owner_np = np.array(self._owner)
        tokens = [terms(t) or ["\u2205"] for t in texts]
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._bm25.index(tokens, show_progress=False)
        per_topic: list[list[str]] = [[] for _ in self.topics]  # all phrasings together
        for owner, words in zip(self._owner, tokens, strict=True):
            per_topic[owner] += words
        self._topic_bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._topic_bm25.index([w or ["\u2205"] for w in per_topic], show_progress=False)
        vocabulary: dict[str, int] = {}
        for words in tokens:
            for w in words:
                vocabulary.setdefault(w, len(vocabulary))
        self._vocabulary = vocabulary
        # which phrasing has which word (phrasings x words), for the coverage of a question
        self._has = np.zeros((len(tokens), len(vocabulary)), dtype=np.float32)
        for row, words in enumerate(tokens):
            self._has[row, [vocabulary[w] for w in set(words)]] = 1.0
        df = self._has.sum(axis=0)
        n_docs = len(tokens)
        self._idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        self._idf_unknown = math.log(1 + (n_docs + 0.5) / 0.5)
        self._vectors = None
        if self.encoder is not None and texts:
            new = sorted({t for t in texts if t not in self.cache})
            if new:
                self.cache.update(zip(new, self.encoder.encode(new), strict=True))
            self._vectors = np.stack([self.cache[t] for t in texts])

    def search(self, text: str) -> Match:
        """The best topic for a question, with the confidence that decides answering."""
        words = terms(text)
        if not words or not self.topics:
            return Match(None, 0.0, False)
        lexical = self._per_topic(self._bm25.get_scores(words))
        together = self._topic_bm25.get_scores(words)
        coverage = self._coverage(words)
        semantic = np.zeros(len(self.topics))
        if self._vectors is not None:
            query = self.encoder.encode([text])[0]
            semantic = np.maximum(self._per_topic(self._vectors @ query), 0)
        t = self.tuning
        rank = (t.semantic * semantic if self._vectors is not None else 0) + (
            t.phrasing_bm25 * lexical / (lexical.max() or 1)
            + t.topic_bm25 * together / (together.max() or 1) + t.coverage * coverage)
        if self._vectors is None:  # lexical alone: its weights fill the whole scale
            rank = rank / (t.phrasing_bm25 + t.topic_bm25 + t.coverage)
        order = np.argsort(-rank)
        best = self.topics[order[0]]
        other = next((i for i in order[1:] if self._rival(best, self.topics[i])), None)
        confidence = float(rank[order[0]])
        gap = confidence - float(rank[other]) if other is not None else 1.0
        sure = confidence >= t.threshold and gap >= t.margin
        if best.kind == "smalltalk" and len(text.split()) > t.smalltalk_words:
            sure = False
        return Match(best, confidence, sure, float(coverage[order[0]]),
                     float(semantic[order[0]]),
                     self.topics[other] if other is not None else None)

    def _per_topic(self, scores: np.ndarray) -> np.ndarray:
        best = np.zeros(len(self.topics))
        np.maximum.at(best, self._owner_np, scores)
        return best

    def _coverage(self, words: list[str]) -> np.ndarray:
        """Per topic, the share of the question's weight (idf) its closest phrasing has."""
        unique = set(words)
        known = [self._vocabulary[w] for w in unique if w in self._vocabulary]
        total = float(self._idf[known].sum()) + self._idf_unknown * (len(unique) - len(known))
        if not known or total <= 0:
            return np.zeros(len(self.topics))
        per_phrasing = self._has[:, known] @ self._idf[known] / total
        return self._per_topic(per_phrasing)

    @staticmethod
    def _rival(best: Topic, other: Topic) -> bool:
        """A topic that would say something else: not the same service's other topic, nor
        one whose answer the best one's carries too (`NEAR`). A refusal or a greeting close
        behind an answer is no doubt about the answer ("how do I register?" is near "how do
        I register for the Citizen Account?"): it is said only when it comes first."""
        if other.key == best.key or (best.service and other.service == best.service):
            return False
        if other.kind in ("out_of_scope", "smalltalk") and best.kind != "out_of_scope":
            return False
        pair = {best.key.partition(".")[0], other.key.partition(".")[0]}
        return not any(pair <= near for near in NEAR)


# Topics whose answers overlap, so that a question between them is no reason for doubt:
# "how do I register, which papers?" (the steps, with each service's documents a press
# away), "where are you and when?" (one answer), which documents and those of a service.
NEAR = ({"apply", "documents"}, {"apply", "services"}, {"hours", "contact"},
        {"documents", "documents_for"})
