"""OCR benchmark: picsift's reading (picsift.models.ocr) beside Tesseract's own page mode on the
same generated covers, in the same run.

Not a test: prints one table. The covers are tests/ocr_images.py's: 720x1280 photo-like
backgrounds with one German or English line in five overlay styles (white box, white with a
black outline, plain white, yellow with an outline, black on a pale band) at two sizes. For
each way of reading: images/s on this machine's cores (one Tesseract, as an indexing worker
runs it) and character accuracy, 1 - (edit distance / length of the drawn text), per style and
overall (junk read from the background counts against it).

    .venv/bin/python bench/ocr.py [--per-style 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from picsift.models.ocr import OcrEngine  # noqa: E402
from tests.ocr_images import STYLES, cases  # noqa: E402


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def accuracy(read: str, drawn: str) -> float:
    read = " ".join(read.split())
    return max(0.0, 1.0 - edit_distance(read, drawn) / len(drawn))


def page_mode(engine: OcrEngine):
    """Tesseract's default: the picture as it is, automatic page segmentation."""
    import tesserocr

    api = tesserocr.PyTessBaseAPI(path=engine.tessdata, lang=engine.languages)

    def read(image):
        api.SetImage(image)
        return api.GetUTF8Text()

    return read


def measure(name: str, read, covers) -> list[str]:
    scores: dict[str, list[float]] = {s: [] for s in STYLES}
    start = time.perf_counter()
    for cover in covers:
        scores[cover.style].append(accuracy(read(cover.image), cover.text))
    seconds = time.perf_counter() - start
    every = [x for xs in scores.values() for x in xs]
    per_style = [f"{statistics.mean(scores[s]):.2f}" for s in STYLES]
    return [name, f"{len(covers) / seconds:.2f}", f"{statistics.mean(every):.3f}", *per_style]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-style", type=int, default=6, help="covers per style and size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    covers = cases(n_per_style=args.per_style, seed=args.seed)
    engine = OcrEngine()
    rows = [
        measure("Tesseract page mode, raw picture (baseline)", page_mode(engine), covers),
        measure(
            "picsift: sized, ink masks, confidence floor", lambda i: engine.read(i).text, covers
        ),
    ]
    header = ["reading", "images/s", "char accuracy", *STYLES]
    print(f"{len(covers)} covers 720x1280 ({args.per_style} per style and size), "
          f"{os.cpu_count()} cores, languages {engine.languages}")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
