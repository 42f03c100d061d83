"""Topic words: c-TF-IDF over one document per topic, counted the way BERTopic counts them.

c-TF-IDF fails on fewer than two distinct words (BERTopic's `ClassTfidfTransformer` squeezes
the word counts to a scalar), which is every corpus without captions or tags. Such documents get
`STAND_IN` words appended, and those are never a topic's keyword.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

STAND_IN = ("emptydoc", "nowordsyet")  # "emptydoc" is what BERTopic puts for an empty document
TOP_WORDS = 10
_NOT_WORD = re.compile(r"[^A-Za-z0-9 ]+")  # what BERTopic strips before counting


def vectorizer():
    """The word counter of topic words (English stop words left out)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words="english")


def clean(doc: str) -> str:
    """A document as BERTopic prepares it for counting."""
    return _NOT_WORD.sub("", doc.replace("\n", " ").replace("\t", " "))


def padded(docs: Sequence[str]) -> list[str]:
    """`docs`, with the stand-in words appended when they hold fewer than two distinct words."""
    analyze = vectorizer().build_analyzer()
    seen: set[str] = set()
    for doc in docs:
        seen.update(analyze(clean(doc)))
        if len(seen) >= 2:
            return list(docs)
    return [f"{doc} {' '.join(STAND_IN)}" for doc in docs]


def real_words(words: Iterable[str]) -> list[str]:
    """Real words only: no stand-in, no BERTopic padding ("")."""
    return [w for w in words if w and w not in STAND_IN]


def topic_words(docs: Mapping[int, Sequence[str]], top_n: int = TOP_WORDS) -> dict[int, list[str]]:
    """Each topic's `top_n` c-TF-IDF words over its documents (captions and tags); a topic
    without words gets an empty list."""
    from bertopic.vectorizers import ClassTfidfTransformer

    topics = sorted(docs)
    if not topics:
        return {}
    joined = padded([clean(" ".join(docs[t])) for t in topics])
    counter = vectorizer()
    counts = counter.fit_transform(joined)
    scores = ClassTfidfTransformer().fit(counts).transform(counts).tocsr()
    vocabulary = counter.get_feature_names_out()
    found = {}
    for row, topic in enumerate(topics):
        line = scores.getrow(row)
        ranked = sorted(zip(line.data, line.indices, strict=True), key=lambda p: (-p[0], p[1]))
        found[topic] = real_words(str(vocabulary[i]) for s, i in ranked if s > 0)[:top_n]
    return found
