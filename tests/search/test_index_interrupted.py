"""Ctrl-C in an enrichment phase: the run's new images are stored, and the interruption
carries the report of what was done, naming the phase cut short (`picsift index --watch`
prints it); the next run finishes the phase."""

from __future__ import annotations

import pytest

from indexer.run import Interrupted, TextVectors
from tests.text_corpus import index_corpus


class CtrlC:
    name, every_run = "variants", False

    def run(self, store, data_dir, progress):
        raise KeyboardInterrupt


def test_an_interrupted_phase_leaves_the_report_of_what_was_stored(make_store, toy_clip, tmp_path):
    store = make_store()
    with pytest.raises(Interrupted) as stopped:
        index_corpus(store, toy_clip, tmp_path, [TextVectors(), CtrlC(), TextVectors()])
    report = stopped.value.run.report
    assert report["interrupted"] == "variants"
    assert report["new"] == store.images.count() > 0
    assert report["text"]["written"] > 0  # the phase before it ran and counts
    assert stopped.value.run.new_ids
