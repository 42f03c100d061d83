"""CLI benchmark: whole `picsift` commands as processes, beside `python -c "import torch"`.

Not a test: prints one table. In a temporary work directory it writes N small coloured-shape
JPEGs (the toy models' world) and a picsift.toml that selects the toy CLIP and captioner, indexes
them once and fits topics once (both untimed), then runs, in rounds (the baseline, then each
command, every round):

  baseline: the venv's `python -c "import torch"`;
  `picsift index corpus` on the unchanged corpus (a re-index where nothing is new);
  `picsift status`; `picsift topics list`; `picsift export --out posts.csv` (no query);
  one-shot `picsift search "red circle"`.

Each run is a fresh process: wall seconds from spawn to exit, and the child's own peak RSS and
CPU seconds from `os.wait4` (per child, unlike RUSAGE_CHILDREN deltas). The table gives the
medians over the rounds, wall and peak RSS as ratios to the baseline's medians, the targets of
issue #16 (wall: unchanged re-index <= 1x, status <= 0.4x, one-shot search <= 2x) with whether
each is met, and whether the command imports torch at all (one extra run under
`python -X importtime`, looking for a top-level `torch` line). On a shared machine wall time
measures the neighbours too; CPU seconds and the load average in the header help to tell.

    .venv/bin/python bench/cli.py [--rounds N] [--markdown] [--images 600]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from picsift.models.toy import sample

BIN = Path(sys.executable).parent
PYTHON = str(BIN / "python")
PICSIFT = str(BIN / "picsift")
CONFIG = """\
store = "{store}"
model = "toy"
caption_model = "toy"
"""


@dataclass(frozen=True)
class Command:
    """One measured command: its label, its arguments after `picsift`, its wall target."""

    label: str
    args: tuple[str, ...]
    target: float | None = None
    baseline: bool = False

    @property
    def argv(self) -> list[str]:
        """What is spawned: the console script, or for the baseline the venv's python."""
        return [PYTHON, *self.args] if self.baseline else [PICSIFT, *self.args]

    def importtime_argv(self) -> list[str]:
        """The same command under `python -X importtime`, in-process through cli.main."""
        if self.baseline:
            return [PYTHON, "-X", "importtime", *self.args]
        argv = ["picsift", *self.args]
        code = f"import sys; sys.argv = {argv!r}; from cli.main import main; main()"
        return [PYTHON, "-X", "importtime", "-c", code]


BASELINE = Command('python -c "import torch"', ("-c", "import torch"), baseline=True)
COMMANDS = (
    BASELINE,
    Command("picsift index corpus (unchanged)", ("index", "corpus"), 1.0),
    Command("picsift status", ("status",), 0.4),
    Command("picsift topics list", ("topics", "list")),
    Command("picsift export --out posts.csv", ("export", "--out", "posts.csv")),
    Command('picsift search "red circle"', ("search", "red circle"), 2.0),
)


@dataclass
class Samples:
    """Every round's measures of one command."""

    wall: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run one process to its end: (wall s, peak RSS MiB, CPU s, stderr).

    Raises:
        SystemExit: when the command fails, with the end of its stderr.
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{stderr[-3000:]}")
    # Linux reports ru_maxrss in KiB.
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, stderr


def imports_torch(command: Command, cwd: Path, env: dict[str, str]) -> bool:
    """Whether the command imports torch: a top-level `torch` line in its importtime output."""
    stderr = spawn(command.importtime_argv(), cwd, env)[3]
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == "torch":
            return True
    return False


def write_corpus(folder: Path, n: int) -> None:
    """N small JPEGs of coloured shapes (each with its own noise, so no two share a hash)."""
    folder.mkdir(parents=True)
    for i, (image, color, shape) in enumerate(sample(n, seed=16)):
        image.save(folder / f"{i:04d}-{color}-{shape}.jpg", quality=90)


def set_up(work: Path, n: int, env: dict[str, str]) -> None:
    """Corpus, picsift.toml, a first index and a topic fit; checks the re-index finds nothing."""
    write_corpus(work / "corpus", n)
    (work / "picsift.toml").write_text(CONFIG.format(store=(work / "store").as_posix()))
    spawn([PICSIFT, "index", "corpus", "--report", "first.json"], work, env)
    first = json.loads((work / "first.json").read_text())
    assert first["new"] == n, first
    spawn([PICSIFT, "topics", "fit", "--no-captions"], work, env)
    spawn([PICSIFT, "index", "corpus", "--report", "again.json"], work, env)
    again = json.loads((work / "again.json").read_text())
    assert again["new"] == 0 and again["known"] == n, again


def measure(rounds: int, n: int) -> tuple[dict[Command, Samples], dict[Command, bool]]:
    """Set up a work directory, probe each command's imports, then time the rounds."""
    # The work directory's picsift.toml decides; stray PICSIFT_* variables would override it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICSIFT_")}
    with tempfile.TemporaryDirectory(prefix="picsift-bench-cli-") as tmp:
        work = Path(tmp)
        set_up(work, n, env)
        # The probes double as a warm-up: every command's files are in the page cache.
        torch = {c: imports_torch(c, work, env) for c in COMMANDS}
        samples = {c: Samples() for c in COMMANDS}
        for _ in range(rounds):
            for command in COMMANDS:
                wall, rss, cpu, _ = spawn(command.argv, work, env)
                samples[command].wall.append(wall)
                samples[command].rss_mib.append(rss)
                samples[command].cpu.append(cpu)
    return samples, torch


def table(samples: dict[Command, Samples], torch: dict[Command, bool]) -> list[list[str]]:
    """Header row, then one row per command, the baseline first."""
    base_wall = statistics.median(samples[BASELINE].wall)
    base_rss = statistics.median(samples[BASELINE].rss_mib)
    rows = [
        [
            "command",
            "imports torch",
            "wall s",
            "wall / torch import",
            "target",
            "met",
            "peak RSS MiB",
            "RSS / torch import",
            "CPU s",
        ]
    ]
    for command in COMMANDS:
        s = samples[command]
        wall, rss = statistics.median(s.wall), statistics.median(s.rss_mib)
        ratio = wall / base_wall
        if command.target is None:
            target, met = "-", "-"
        else:
            target, met = f"<= {command.target:g}x", "yes" if ratio <= command.target else "no"
        rows.append(
            [
                command.label + (" (baseline)" if command.baseline else ""),
                "yes" if torch[command] else "no",
                f"{wall:.2f}",
                f"{ratio:.2f}x",
                target,
                met,
                f"{rss:.0f}",
                f"{rss / base_rss:.2f}x",
                f"{statistics.median(s.cpu):.2f}",
            ]
        )
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    """The rows as a Markdown table, or as aligned plain-text columns."""
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(1, "|" + "---|" * len(rows[0]))
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="Runs of each command (median).")
    parser.add_argument("--images", type=int, default=600, help="Images in the corpus.")
    parser.add_argument("--markdown", action="store_true", help="Print a Markdown table.")
    args = parser.parse_args()
    if args.rounds < 1 or args.images < 1:
        parser.error("--rounds and --images must be at least 1")
    load = os.getloadavg()[0]
    samples, torch = measure(args.rounds, args.images)
    print(
        f"{args.images} images, toy models, embedded store; medians over {args.rounds} rounds; "
        f"torch {metadata.version('torch')}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(render(table(samples, torch), args.markdown))


if __name__ == "__main__":
    main()
