"""Configuration mistakes fail loudly: one line naming the file or store, exit status 2."""

from __future__ import annotations

import sys

import pytest
from qdrant_client import QdrantClient

from cli.main import main
from picsift.errors import StoreError
from picsift.settings import load_settings
from picsift.store import open_store
from picsift.store.server import ServerStore

NO_STORE = "; run `picsift index` first, or cd to the folder that has picsift.toml"


def run_cli(argv, monkeypatch, capsys) -> tuple[int, str]:
    """Run the console script in-process: its exit status and what it wrote to stderr."""
    monkeypatch.setattr(sys, "argv", ["picsift", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr().err


def test_missing_config_flag_names_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["--config", "missing.toml", "status"], monkeypatch, capsys)
    assert code == 2
    assert err == (
        "error: settings file missing.toml (--config or PICSIFT_CONFIG) does not exist; "
        "fix the path, or leave both unset to read ./picsift.toml\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_config_env_names_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PICSIFT_CONFIG", str(tmp_path / "typo.toml"))
    code, err = run_cli(["status"], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"settings file {tmp_path / 'typo.toml'} (--config or PICSIFT_CONFIG) does not" in err


def test_toml_syntax_error_names_file_line_and_column(tmp_path, monkeypatch, capsys):
    (tmp_path / "bad.toml").write_text('store = "/data"\ncollection images\n')
    code, err = run_cli(["--config", str(tmp_path / "bad.toml"), "status"], monkeypatch, capsys)
    assert code == 2
    assert err == (
        f"error: cannot read settings file {tmp_path / 'bad.toml'}: Expected '=' after a key "
        "in a key/value pair (at line 2, column 12)\n"
    )


def test_default_picsift_toml_is_checked_too(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PICSIFT_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "picsift.toml").write_text("port = = 1\n")
    code, err = run_cli(["status"], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: cannot read settings file picsift.toml: ")
    assert "(at line 1, column 8)" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "--json"],
        ["search", "red", "circle"],
        ["export", "--out", "OUT/rows.csv"],
        ["topics", "list"],
        ["topics", "show", "0"],
        ["topics", "fit"],
        ["topics", "rename", "0", "cats"],
        ["caption"],
        ["tag", "OUT/codebook.txt"],
        ["store", "export", "OUT/store.tar"],
        ["remove", "--dataset", "d"],
    ],
)
def test_commands_on_a_missing_store_say_so_and_create_nothing(tmp_path, monkeypatch, capsys, argv):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "codebook.txt").write_text("cat\ndog\n")
    store = tmp_path / "nowhere"
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    code, err = run_cli(["--store", str(store), *argv], monkeypatch, capsys)
    assert (code, err) == (2, f"error: no picsift store at {store}{NO_STORE}\n")
    assert not store.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["codebook.txt"]


def test_default_store_missing_in_this_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["status"], monkeypatch, capsys)
    assert (code, err) == (2, f"error: no picsift store at {tmp_path / 'picsift-data'}{NO_STORE}\n")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_no_store_gets_no_lock_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "photo.jpg").write_bytes(b"not really")
    code, err = run_cli(["--store", str(tmp_path), "status"], monkeypatch, capsys)
    assert code == 2 and f"no picsift store at {tmp_path};" in err
    assert [p.name for p in tmp_path.iterdir()] == ["photo.jpg"]


def test_creating_commands_still_make_a_new_store(tmp_path):
    settings = load_settings(store=str(tmp_path / "new"))
    for command in ("picsift index", "picsift demo", "picsift store import", None):
        open_store(settings, command=command).close()
    assert (tmp_path / "new").is_dir()
    open_store(settings, command="picsift status").close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_server_backend_missing_collection(monkeypatch):
    """On a server there is no store folder: the collection is what must exist."""
    clients = [QdrantClient(":memory:"), QdrantClient(":memory:")]
    monkeypatch.setattr("qdrant_client.QdrantClient", lambda **_: clients.pop(0))
    settings = load_settings(store="http://qdrant.invalid:6333", collection="corpus")
    with pytest.raises(StoreError) as missing:
        open_store(settings, command="picsift search")
    assert str(missing.value) == (
        f"no picsift store at http://qdrant.invalid:6333 (collection 'corpus'){NO_STORE}"
    )
    ServerStore(clients[0], "corpus").ensure("toy", 8)
    with open_store(settings, command="picsift search") as store:
        assert store.meta.model == "toy"
