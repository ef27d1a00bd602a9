"""Finding the topic of a question (conversations/knowledge.py): Arabic normalisation,
the lexical and the hybrid search, what staff taught, and the golden questions of every
shipped profile measured against the issue's targets (bench/faq.py prints the same
figures per profile, with latency)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot import encoder, profiles
from conversations.knowledge import Knowledge, terms, topics

GOLDEN = Path(__file__).resolve().parents[1] / "faq_golden"


@pytest.fixture(scope="module")
def model():
    return encoder.load()


@pytest.mark.parametrize("one,other", [
    ("ما هي المستندات المطلوبة؟", "ما هى المستندات المطلوبه"),  # alef maqsura, taa marbuta
    ("أين مقرّ الجمعية", "اين مقر الجمعيه"),  # hamza, shadda
    ("مُـــقَـــرّ", "مقر"),  # tashkeel and tatweel
    ("٣ أفراد", "3 افراد"),  # Arabic-Indic digits
    ("وش الأوراق", "ما المستندات"),  # dialect and its common word
    ("والأوراق", "اوراق"),  # the article and its clitics
])
def test_spellings_of_the_same_question_compare_alike(one, other):
    assert terms(one) == terms(other)


def test_every_shipped_profile_has_a_seeded_faq_in_both_languages():
    for name in profiles.shipped():
        faq = profiles.load(name).faq
        assert len(faq) >= 25, name
        assert all(e.questions.ar and e.questions.en and e.answer.en for e in faq), name


def test_lexical_search_alone_finds_a_plain_question():
    bakkah = profiles.load("bakkah")
    found = Knowledge(topics(bakkah)).search("وين مقركم")
    assert found.topic is not None and found.topic.key == "contact" and found.confident


def test_a_taught_answer_is_found_with_its_own_words(model):
    bakkah = profiles.load("bakkah")
    before = Knowledge(topics(bakkah), model)
    assert before.search("هل يوجد موقف سيارات عند المقر").topic.key != "taught.1"
    taught = [(1, ("هل يوجد موقف سيارات عند المقر؟",), "نعم، أمام المقر.", "ar")]
    after = Knowledge(topics(bakkah, taught), model, cache=before.cache)
    found = after.search("فيه موقف سيارات عند مقركم؟")
    assert found.topic.key == "taught.1" and found.topic.answer == "نعم، أمام المقر."


def test_a_rebuild_encodes_only_new_phrasings():
    class Counting:
        def __init__(self):
            self.seen = 0

        def encode(self, texts):
            self.seen += len(texts)
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    bakkah = profiles.load("bakkah")
    counting = Counting()
    first = Knowledge(topics(bakkah), counting)
    once = counting.seen
    Knowledge(topics(bakkah, [(1, ("سؤال جديد تماما",), "جواب", "ar")]), counting,
              cache=first.cache)
    assert counting.seen == once + 1


def golden(name: str) -> list[dict]:
    return yaml.safe_load((GOLDEN / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def outcomes(model) -> dict[str, dict[str, tuple[int, int]]]:
    """Per shipped profile, on its golden questions: (right first topic, answerable), (wrong
    and sure, answerable), (out-of-scope answered, out-of-scope)."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for name in profiles.shipped():
        knowledge = Knowledge(topics(profiles.load(name)), model)
        questions = golden(name)
        assert len(questions) >= 60, name
        inscope = [q for q in questions if q["expect"]]
        outscope = [q for q in questions if not q["expect"]]
        best = [(knowledge.search(q["q"]), q["expect"]) for q in inscope]
        out = [knowledge.search(q["q"]) for q in outscope]
        found[name] = {
            "top1": (sum(m.topic.key in want for m, want in best), len(inscope)),
            "wrong": (sum(m.confident and m.topic.key not in want for m, want in best), len(inscope)),
            "out": (sum(m.confident and m.topic.kind in ("answer", "ask_back") for m in out),
                    len(outscope)),
        }
    return found


@pytest.mark.parametrize("name", profiles.shipped())
def test_golden_questions_top_1_per_profile(name, outcomes):
    """The best topic is a right one for at least 90% of each profile's answerable questions."""
    right, count = outcomes[name]["top1"]
    assert right / count >= 0.90, f"top-1 {right}/{count}"


def test_golden_questions_wrong_answers_and_out_of_scope_overall(outcomes):
    """Over every profile's questions: at most 2% of the answerable ones answered wrongly with
    confidence, at most 5% of the out-of-scope ones answered (per profile these are one or
    two questions; bench/faq.py prints them per profile)."""
    wrong = [outcomes[n]["wrong"] for n in outcomes]
    out = [outcomes[n]["out"] for n in outcomes]
    assert sum(w for w, _ in wrong) / sum(c for _, c in wrong) <= 0.02, wrong
    assert sum(o for o, _ in out) / sum(c for _, c in out) <= 0.05, out


@pytest.mark.parametrize("name", profiles.shipped())
def test_golden_sets_name_only_real_topics(name):
    keys = {t.key for t in topics(profiles.load(name))}
    for q in golden(name):
        assert set(q["expect"]) <= keys, q
