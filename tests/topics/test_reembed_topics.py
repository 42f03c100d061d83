"""Topics through `picsift reembed`: the topic vectors and the run's reference set move into
the new model's space, so images indexed later are placed as before; the run says so."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from picsift.errors import StoreError
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
from picsift.models.toy import TOY_CLIP_DIR
from picsift.settings import Settings
from picsift.store import PointData
from search import tasks
from tests.topics.conftest import NEW_PER_CLASS, PER_CLASS, add_images, open_backend
from topics.assign import assign_topics, load_reference
from topics.fit import FitParams, fit_topics
from topics.table import current_run, topic_point_id

pytestmark = pytest.mark.slow  # one topic fit
N = 12 * PER_CLASS
NEW = range(N, N + 12 * NEW_PER_CLASS)


def test_topics_place_new_images_as_before_after_a_reembed(tmp_path, shapes):
    # The same weights under another name: the new space is the old one, up to the thumbnails
    # the images are embedded from again, so placements must agree.
    copy = tmp_path / "toy-copy"
    shutil.copytree(TOY_CLIP_DIR, copy)
    store = open_backend("embedded", tmp_path)
    data_dir = tmp_path / "data"
    add_images(store, data_dir, shapes, range(N))
    run = fit_topics(store, data_dir, FitParams())
    before = load_reference(data_dir, run, "toy").place(shapes.vectors[NEW.start : NEW.stop])
    old_topics = {r.id: r.vector for r in store.topics.scroll(with_vectors=True)}
    with pytest.raises(StoreError, match="fitted on 'toy' vectors"):
        load_reference(data_dir, run, "toy-copy")

    done = tasks.reembed(store, Settings(data=str(data_dir)), str(copy), lambda *_: None)

    assert done["topics"] == {"run": run.run, "topics": len(old_topics), "reference": N}
    assert done["from_thumbnail"] == N  # these images have no files, only thumbnails
    moved = {r.id: r.vector for r in store.topics.scroll(with_vectors=True)}
    assert moved.keys() == old_topics.keys()
    assert min(float(moved[k] @ old_topics[k]) for k in moved) > 0.98
    encoder = ClipEncoder(str(copy), runtime=Runtime("cpu", "fp32", "test"))
    vectors = encoder.embed_images([shapes.images[i] for i in NEW])
    store.images.upsert(
        [
            PointData(shapes.point_id(i), vectors[k], {"sha256": shapes.sha(i)})
            for k, i in enumerate(NEW)
        ]
    )
    report = assign_topics(store, data_dir)
    assert report.assigned + report.unassigned == len(NEW)
    placed = {
        r.id: r.payload["topic"] for r in store.images.retrieve([shapes.point_id(i) for i in NEW])
    }
    after = np.array([placed[shapes.point_id(i)] for i in NEW])
    assert float((after == before.topics).mean()) >= 0.9
    record = current_run(data_dir)
    assert [note["model"] for note in record.reembedded] == [str(copy)]
    assert record.model == "toy"  # the topics are still the fit's
    assert store.topics.retrieve([topic_point_id(-1)])  # the outliers' row came along
