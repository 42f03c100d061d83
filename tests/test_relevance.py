"""The edge of a ranking (`picsift.relevance`): null queries, the margin, the words."""

from __future__ import annotations

import numpy as np

from picsift.relevance import MIN_IMAGES, NULL_QUANTILE, QueryEdge, null_texts, query_edge


def test_equal_scores_still_give_a_histogram():
    """One image, or copies of one vector: every score equal (np.histogram refused it)."""
    lo, hi, counts = QueryEdge(0.5, None, np.full(3, 0.5, np.float32)).histogram(40)
    assert lo < 0.5 < hi and sum(counts) == 3 and len(counts) == 40


def test_null_texts_are_fixed_and_take_the_prompt():
    plain, prompted = null_texts(), null_texts("a photo of {}")
    assert plain == null_texts() and len(plain) == len(set(plain)) == 76
    assert prompted[0] == f"a photo of {plain[0]}"


def test_the_edge_is_the_median_plus_the_margin_and_the_words_say_so():
    class Null:
        margin = 0.25

    sample = np.eye(4, dtype=np.float32)[[0, 1, 1, 2, 3]]
    edge = query_edge(Null(), sample, np.array([1, 0, 0, 0], np.float32))
    assert edge.median == 0.0 and edge.edge == 0.25
    assert edge.verdict(0).startswith("no strong matches: no top-ranked image scores above 0.250")
    assert edge.verdict(3) == "3 strong matches (score above 0.250; counted in the top 1,000)"
    assert edge.verdict(10_000, capped=True).startswith("10,000+ strong matches")
    small = query_edge(None, sample, np.array([1, 0, 0, 0], np.float32))
    assert small.edge is None
    assert f"fewer than {MIN_IMAGES} images" in small.verdict(None)
    assert 0.5 < NULL_QUANTILE < 1
