"""Topic reads over HTTP, on a run written in the topic-table contract."""

from __future__ import annotations

from collections import Counter

from tests.search.conftest import RUN


def test_topics_list_counts_labels_and_run(client, corpus):
    body = client.get("/api/topics").json()
    assert body["run"]["run"] == RUN and body["run"]["params"]["seed"] == 42
    counts = Counter(corpus.truth.colour.values())
    got = {t["label"]: t["count"] for t in body["topics"]}
    assert got == {f"{c} shapes": n for c, n in counts.items()}
    first = body["topics"][0]
    assert first["collage_url"] == f"/api/topics/{first['topic']}/collage"
    assert all(corpus.truth.colour[i] in first["label"] for i in first["representatives"])


def test_one_topic_and_its_collage(client):
    topic = client.get("/api/topics/2").json()
    assert topic["label"] == "blue shapes" and topic["keywords"] == ["blue", "shape"]
    collage = client.get("/api/topics/2/collage")
    assert collage.status_code == 200 and collage.headers["content-type"] == "image/jpeg"


def test_unknown_topic_is_404_and_a_bad_filter_422(client):
    for path in ("/api/topics/9", "/api/topics/9/collage"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["parameter"] == "topic_id"
        assert "no topic 9" in response.json()["message"]
    response = client.get("/api/search", params={"q": "red", "topic": 9})
    assert response.status_code == 422 and response.json()["parameter"] == "topic"


def test_map_bins_count_every_placed_image(client, corpus):
    body = client.get("/api/topics/map", params={"bins": 8}).json()
    assert body["run"] == RUN and body["total"] == len(corpus.truth.colour)
    assert sum(c["count"] for c in body["cells"]) == body["total"]
    assert all(0 <= c["i"] < 8 and 0 <= c["j"] < 8 for c in body["cells"])
    # Colours sit 10 apart on x: every cell holds one colour, so its topic is that colour's.
    colour = corpus.truth.colour
    assert all(c["topic"] == "rgby".index(colour[c["sample"]][0]) for c in body["cells"])


def test_map_points_page_within_a_box_and_topic(client, corpus):
    box = {"x_min": 5, "x_max": 35, "y_min": -5, "y_max": 30}
    first = client.get("/api/topics/map", params={"mode": "points", "limit": 20, **box}).json()
    rest = client.get(
        "/api/topics/map", params={"mode": "points", "limit": 1000, "offset": 20, **box}
    ).json()
    points = first["points"] + rest["points"]
    assert first["next_offset"] == 20 and rest["next_offset"] is None
    assert len({p["id"] for p in points}) == len(points) == first["total"]
    assert {corpus.truth.colour[p["id"]] for p in points} == {"green", "blue", "yellow"}
    only = client.get("/api/topics/map", params={"mode": "points", "topic": 1}).json()
    assert {p["topic"] for p in only["points"]} == {1}


def test_map_box_must_be_whole(client):
    response = client.get("/api/topics/map", params={"x_min": 1})
    assert response.status_code == 422 and response.json()["parameter"] == "x_min"
