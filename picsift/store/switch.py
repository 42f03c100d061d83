"""An embedded store switched to re-embedded collections (`picsift reembed`) by renames.

The new collections are built beside the store, in `<store>/reembed/` (a store of its own, with
its own lock). The switch moves the store's two shards and their records aside, moves the staged
ones into their places and deletes what was moved aside. Every move is written to a journal
(`<store>/switch.json`) before the first one, so a switch cut short (a crash, a full disk) is
finished when the store is next opened, and the store never opens half old, half new.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

STAGING = "reembed"  # the folder the new collections are built in
JOURNAL = "switch.json"
REPLACED = "replaced"  # the old shards, between the moves and their deletion


def switch_shards(directory: Path, root: str, names: Sequence[str]) -> None:
    """Put the shards `names` (with their `.meta.json` records) of `<directory>/STAGING/<root>`
    in the place of those of `<directory>/<root>`; the old ones are deleted. Both stores
    are closed."""
    shutil.rmtree(directory / REPLACED, ignore_errors=True)  # left by an earlier failure
    if (directory / REPLACED).exists():
        raise OSError(f"cannot clear {directory / REPLACED} before switching")
    moves: list[tuple[str, str]] = []
    for name in names:
        for entry in (f"{name}.meta.json", name):  # the record first: without it, no collection
            moves.append((f"{root}/{entry}", f"{REPLACED}/{entry}"))
    for name in names:
        for entry in (name, f"{name}.meta.json"):  # the record last: it says the shard is there
            moves.append((f"{STAGING}/{root}/{entry}", f"{root}/{entry}"))
    _journal(directory, moves)
    finish_switch(directory)


def finish_switch(directory: Path) -> bool:
    """Carry out the moves of a switch's journal that are not done yet, then delete what it
    replaced; True when there was one. A move whose source is gone (or whose target is there)
    was done before. Once every move is done the journal says so before anything is deleted,
    so a switch cut short while deleting never moves the new shards aside again."""
    journal = directory / JOURNAL
    if not journal.is_file():
        return False
    record = json.loads(journal.read_text())
    for src, dst in record["moves"]:
        source, target = directory / src, directory / dst
        if source.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    if record["moves"]:
        _journal(directory, [])
    for name in record["remove"]:
        shutil.rmtree(directory / name, ignore_errors=True)
    journal.unlink()
    return True


def _journal(directory: Path, moves: list[tuple[str, str]]) -> None:
    """Write the journal atomically: the moves still to make, and what to delete after."""
    journal = directory / JOURNAL
    tmp = journal.with_suffix(".tmp")
    tmp.write_text(json.dumps({"moves": moves, "remove": [REPLACED, STAGING]}, indent=2))
    os.replace(tmp, journal)
