"""Topic labels keep the words most of the topic's captions share."""

from topics.represent import auto_label


def test_label_drops_words_only_a_few_wrong_captions_bring():
    docs = ["a green triangle"] * 8 + ["a green circle"] * 2
    assert auto_label(3, ["green", "triangle", "circle"], docs) == "green, triangle"


def test_label_without_shared_words_keeps_the_top_keyword():
    docs = ["a red circle", "a blue square", "a green triangle"]
    assert auto_label(4, ["circle", "square"], docs) == "circle"


def test_label_without_documents_or_words():
    assert auto_label(5, ["red", "circle", "big", "round"]) == "red, circle, big"
    assert auto_label(6, [], ["", "  "]) == "topic 6 (no words yet)"
