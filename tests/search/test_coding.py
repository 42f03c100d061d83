"""Qualitative coding: coders with keys of their own (only hashes kept), a codebook, codes
applied by hand (seen without a code counts as "not applied"), an append-only log, and
Krippendorff's alpha per code with the images to resolve; from the library on both backends,
the API (a coder's key, their cookie, the admin key) and the CLI."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from search import coding
from search.app import create_app
from search.service import NotFoundError
from tests.conftest import unit_vectors

IMAGES = [str(uuid.UUID(int=i + 1)) for i in range(5)]


def _fill(store) -> None:
    store.ensure("toy", 8)
    vectors = unit_vectors(len(IMAGES), 8)
    store.images.upsert(
        [PointData(i, vectors[n], {"posts": [], "first_seen": n}) for n, i in enumerate(IMAGES)]
    )


def _code_the_example(store) -> None:
    """ann and bob code four images for "meme" (agreeing on three), cy sees one."""
    for code in ("meme", "protest"):
        coding.add_code(store, code, f"{code} images")
    for name in ("ann", "bob", "cy"):
        coding.add_coder(store, name)
    given = {
        "ann": [["meme"], ["meme"], [], []],
        "bob": [["meme"], [], [], []],
        "cy": [["meme"]],
    }
    for coder, per_image in given.items():
        for image, codes in zip(IMAGES, per_image, strict=False):
            coding.code_image(store, image, coder, codes)
    coding.code_image(store, IMAGES[4], "ann", ["protest"])  # seen by one coder only


def test_keys_are_shown_once_and_kept_hashed(make_store):
    store = make_store()
    key = coding.add_coder(store, " ann ")
    assert key.startswith("psc_") and len(key) > 40
    assert coding.coder_of_key(store, key) == "ann"
    assert coding.coder_of_key(store, key + "x") is None
    record = store.notes(coding.CODERS).get("ann")
    assert key not in str(record) and record["key_sha256"]
    assert [c["name"] for c in coding.coders(store)] == ["ann"]
    with pytest.raises(InputError, match="name: there is a coder 'ann' already"):
        coding.add_coder(store, "ann")


def test_codings_are_checked_replaced_and_logged(make_store):
    store = make_store()
    _fill(store)
    coding.add_code(store, "meme")
    coding.add_coder(store, "ann")
    with pytest.raises(InputError, match="codes: 'joke' is not in the codebook"):
        coding.code_image(store, IMAGES[0], "ann", ["joke"])
    with pytest.raises(NotFoundError, match="coder: no coder 'zed'"):
        coding.code_image(store, IMAGES[0], "zed", [])
    with pytest.raises(InputError, match="id: 'not-an-id' is not an image id"):
        coding.code_image(store, "not-an-id", "ann", [])
    with pytest.raises(NotFoundError, match="id: no image"):
        coding.code_image(store, str(uuid.UUID(int=99)), "ann", [])
    coding.code_image(store, IMAGES[0], "ann", ["meme", "meme"])
    coding.code_image(store, IMAGES[0], "ann", [])  # looked again: not a meme after all
    assert [c["codes"] for c in coding.codings(store, IMAGES[0])] == [[]]
    assert [(e["codes"], e["action"]) for e in coding.log(store)] == [
        (["meme"], "coded"),
        ([], "seen"),
    ]


def test_agreement_per_code_over_images_two_coders_saw(make_store):
    store = make_store()
    _fill(store)
    _code_the_example(store)
    found = coding.agreement(store)
    assert found["images"] == 4 and found["coders"] == ["ann", "bob", "cy"]
    meme, protest = found["codes"]
    # Pairable values: (1,1,1) on the first image, (1,0) on the second, (0,0) on two more;
    # the expected alpha comes from the definition (`_alpha`), not from the library.
    assert meme["alpha"] == pytest.approx(_alpha([[1, 1, 1], [1, 0], [0, 0], [0, 0]]))
    assert (meme["applied"], meme["applied_shared"]) == (4, 4)
    assert meme["disagreements"] == [
        {"image_id": IMAGES[1], "applied_by": ["ann"], "not_applied_by": ["bob"]}
    ]
    # Nobody applied "protest" to an image two coders saw: no variation, alpha undefined.
    assert protest["alpha"] is None and protest["disagreements"] == []
    assert (protest["applied"], protest["applied_shared"]) == (1, 0)  # ann alone saw it


def _alpha(units: list[list[int]]) -> float:
    """Krippendorff's nominal alpha from its definition (coincidence matrix), for checking."""
    coincide = {(a, b): 0.0 for a in (0, 1) for b in (0, 1)}
    for values in units:
        m = len(values)
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if i != j:
                    coincide[a, b] += 1 / (m - 1)
    n = sum(coincide.values())
    n1 = coincide[1, 1] + coincide[1, 0]
    n0 = coincide[0, 0] + coincide[0, 1]
    observed = (coincide[0, 1] + coincide[1, 0]) / n
    expected = 2 * n0 * n1 / (n * (n - 1))
    return 1 - observed / expected


@pytest.fixture
def served(tmp_path, toy_clip):
    store = EdgeStore(tmp_path / "store")
    _fill(store)
    coding.add_code(store, "meme")
    settings = Settings(store=str(tmp_path / "store"), api_key="admin-key")
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as client:
        yield client
    store.close()


def test_the_api_knows_who_codes(served):
    admin = {"Authorization": "Bearer admin-key"}
    assert served.post("/api/coders", json={"name": "ann"}).status_code == 401
    made = served.post("/api/coders", json={"name": "ann"}, headers=admin)
    assert made.status_code == 201
    key = made.json()["key"]
    path = f"/api/images/{IMAGES[0]}/codes"
    by_key = served.put(path, json={"codes": ["meme"]}, headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 200 and by_key.json()["coder"] == "ann"
    wrong = served.put(path, json={"codes": []}, headers={"Authorization": "Bearer psc_nope"})
    assert wrong.status_code == 401
    unnamed = served.put(path, json={"codes": []}, headers=admin)
    assert unnamed.status_code == 422 and unnamed.json()["parameter"] == "coder"
    served.post("/api/coders", json={"name": "bob"}, headers=admin)
    as_bob = served.put(path, json={"codes": [], "coder": "bob"}, headers=admin)
    assert as_bob.json()["coder"] == "bob"

    # A browser signs in with the key once; the cookie allows coding writes, nothing else.
    signed = served.post("/api/coders/session", headers={"Authorization": f"Bearer {key}"})
    assert signed.status_code == 200 and served.get("/api/coders/session").json()["coder"] == "ann"
    again = served.put(f"/api/images/{IMAGES[1]}/codes", json={"codes": ["meme"]})
    assert again.status_code == 200 and again.json()["coder"] == "ann"
    impostor = served.put(path, json={"codes": [], "coder": "bob"})
    assert impostor.status_code == 422 and impostor.json()["parameter"] == "coder"
    assert served.post("/api/codes", json={"code": "protest"}).status_code == 401
    served.delete("/api/coders/session")
    assert served.put(path, json={"codes": []}).status_code in (401, 422)

    codes = served.get(path).json()
    assert [(c["coder"], c["codes"]) for c in codes] == [("ann", ["meme"]), ("bob", [])]
    agreement = served.get("/api/codes/agreement").json()
    assert (
        agreement["images"] == 1
        and agreement["codes"][0]["disagreements"][0]["image_id"] == (IMAGES[0])
    )
    assert len(served.get("/api/codes/log").json()) == 3
    mine = served.get("/api/codings", params={"coder": "ann"}).json()
    assert [(c["image_id"], c["codes"]) for c in mine] == [
        (IMAGES[0], ["meme"]),
        (IMAGES[1], ["meme"]),
    ]
    assert len(served.get("/api/codings").json()) == 3  # and bob's one


def test_the_cli_codes_and_says_the_agreement(tmp_path):
    store = EdgeStore(tmp_path / "store")
    _fill(store)
    store.close()
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--store", str(tmp_path / "store"), *args])
        assert result.exit_code == 0, result.output
        return result.output

    added = cli("coders", "add", "ann")
    assert added.startswith("coder ann added; their key (shown this once):\npsc_")
    cli("coders", "add", "bob")
    rekeyed = cli("coders", "rekey", "bob")
    assert rekeyed.startswith("coder bob has a new key (shown this once):\npsc_")
    cli("coders", "add", "cy")
    assert cli("coders", "revoke", "cy") == "coder cy's key is revoked; their codings stay\n"
    assert "cy  added" in cli("coders", "list") and "key revoked" in cli("coders", "list")
    cli("codes", "add", "meme", "--description", "a meme")
    assert cli("codes", "list") == "meme: a meme\n"
    for image, ann, bob in ((IMAGES[0], ["meme"], ["meme"]), (IMAGES[1], ["meme"], [])):
        cli("codes", "apply", image, *ann, "--coder", "ann")
        said = cli("codes", "apply", image, *bob, "--coder", "bob")
    assert said == f"bob coded {IMAGES[1]}: none (seen, not applied)\n"
    out = cli("codes", "agreement")
    assert out.startswith("2 images seen by two or more coders (ann, bob)")
    assert (
        "meme: alpha 0.000, applied 3 times (3 on the shared images), 1 images to resolve" in out
    )  # by hand: 1 - 0.5/0.5
    assert f"{IMAGES[1]}: applied by ann; not by bob" in out
    cli("export", "--code", "meme", "--coder", "bob", "--out", str(tmp_path / "bob.csv"))
    rows = list(csv.DictReader((tmp_path / "bob.csv").open(encoding="utf-8")))
    assert [(r["image_id"], r["codes"], r["coders"]) for r in rows] == [(IMAGES[0], "meme", "bob")]


def test_search_and_export_keep_to_a_code_and_a_coder(served):
    admin = {"Authorization": "Bearer admin-key"}
    for name in ("ann", "bob"):
        served.post("/api/coders", json={"name": name}, headers=admin)
    given = [("ann", 0, ["meme"]), ("ann", 1, []), ("bob", 0, []), ("bob", 2, ["meme"])]
    for coder, image, codes in given:
        body = {"codes": codes, "coder": coder}
        assert served.put(f"/api/images/{IMAGES[image]}/codes", json=body, headers=admin).is_success

    def found(**params) -> set[str]:
        hits = served.get("/api/search", params={"limit": 100, **params}).json()["hits"]
        return {h["id"] for h in hits}

    assert found(code="meme") == {IMAGES[0], IMAGES[2]}
    assert found(code="meme", coder="ann") == {IMAGES[0]}
    assert found(coder="bob") == {IMAGES[0], IMAGES[2]}  # seen without a code counts as seen
    served.post("/api/codes", json={"code": "protest"}, headers=admin)
    assert found(code="protest") == set()  # in the codebook, applied to nothing
    table = served.get("/api/export", params={"code": "meme"}).text
    rows = {r["image_id"]: r for r in csv.DictReader(io.StringIO(table))}
    assert set(rows) == {IMAGES[0], IMAGES[2]}
    assert (rows[IMAGES[0]]["codes"], rows[IMAGES[0]]["coders"]) == ("meme", "ann,bob")
    assert (rows[IMAGES[2]]["codes"], rows[IMAGES[2]]["coders"]) == ("meme", "bob")
    manifest = served.get("/api/export/manifest", params={"code": "meme"}).json()
    assert manifest["coding"]["codebook"] == [
        {"code": "meme", "description": ""},
        {"code": "protest", "description": ""},
    ]
    assert manifest["coding"]["coders"] == ["ann", "bob"]
    assert manifest["filters"]["code"] == "meme"


def test_names_that_select_nothing_are_named_and_cookies_are_checked(served):
    admin = {"Authorization": "Bearer admin-key"}
    key = served.post("/api/coders", json={"name": "ann"}, headers=admin).json()["key"]
    for params, name in (({"code": "memme"}, "code"), ({"coder": "anne"}, "coder")):
        typo = served.get("/api/search", params=params)  # a typo would export nothing
        assert typo.status_code == 404 and typo.json()["parameter"] == name
    assert served.get(f"/api/images/{uuid.UUID(int=99)}/codes").status_code == 404
    assert served.get("/api/images/nope/codes").status_code == 422
    upper = served.put(
        f"/api/images/{IMAGES[0].upper()}/codes",
        json={"codes": [], "coder": "ann"},
        headers=admin,
    )
    assert upper.json()["image_id"] == IMAGES[0]
    assert len(served.get(f"/api/images/{IMAGES[0].upper()}/codes").json()) == 1
    for cookie in (b"abc.\xe9", b"not-base64!.x", b"Zm9v.00", b"YW5uCjk5OTk5OTk5OTk=.00"):
        sent = {"cookie": b"picsift_coder=" + cookie}
        assert served.get("/api/coders/session", headers=sent).json() == {"coder": None}
        refused = served.put(f"/api/images/{IMAGES[0]}/codes", json={"codes": []}, headers=sent)
        assert refused.status_code in (401, 422)
    served.post("/api/coders/session", headers={"Authorization": f"Bearer {key}"})
    assert served.get("/api/coders/session").json() == {"coder": "ann"}


def test_concurrent_first_use_keeps_every_write(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    store = EdgeStore(tmp_path / "store")
    notes = lambda i: store.notes("codings").put(f"k{i}", {"i": i})  # noqa: E731
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(notes, range(8)))
    assert sorted(r["i"] for r in store.notes("codings").all()) == list(range(8))
    store.close()


def test_a_key_is_replaced_or_taken_away(served):
    admin = {"Authorization": "Bearer admin-key"}
    old = served.post("/api/coders", json={"name": "ann"}, headers=admin).json()["key"]
    path = f"/api/images/{IMAGES[0]}/codes"
    served.post("/api/coders/session", headers={"Authorization": f"Bearer {old}"})
    assert served.put(path, json={"codes": ["meme"]}).json()["coder"] == "ann"
    assert served.post("/api/coders/ann/key").status_code == 401  # the admin's to do
    new = served.post("/api/coders/ann/key", headers=admin).json()["key"]
    assert new != old
    # The old key and the cookie signed while it held stop working.
    assert served.get("/api/coders/session").json() == {"coder": None}
    by_old = served.put(path, json={"codes": []}, headers={"Authorization": f"Bearer {old}"})
    assert by_old.status_code == 401
    by_new = served.put(path, json={"codes": []}, headers={"Authorization": f"Bearer {new}"})
    assert by_new.json()["coder"] == "ann"
    assert served.delete("/api/coders/ann/key", headers=admin).status_code == 204
    gone = served.put(path, json={"codes": []}, headers={"Authorization": f"Bearer {new}"})
    assert gone.status_code == 401
    for_her = served.put(path, json={"codes": [], "coder": "ann"}, headers=admin)
    assert for_her.status_code == 422 and "revoked" in for_her.json()["message"]
    listed = served.get("/api/coders").json()
    assert listed[0]["name"] == "ann" and listed[0]["revoked_at"]
    assert len(served.get(path).json()) == 1  # her coding stays
    assert served.delete("/api/coders/zed/key", headers=admin).status_code == 404
    back = served.post("/api/coders/ann/key", headers=admin).json()["key"]
    again = served.put(path, json={"codes": []}, headers={"Authorization": f"Bearer {back}"})
    assert again.json()["coder"] == "ann"
