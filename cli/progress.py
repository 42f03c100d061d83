"""Progress bars for long commands: one rich bar per stage, as a `(stage, done, total)` callback
(the shape the indexer, the captioner and the topics stage report in)."""

from __future__ import annotations

from collections.abc import Collection


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Images per second of a stage."""

        def render(self, task) -> Text:
            return Text(f"{task.speed:.1f} images/s" if task.speed else "")

    return RateColumn()


class Bars:
    """One bar per stage, with images/s and time left; `stages` limits which are shown."""

    def __init__(self, stages: Collection[str] | None = None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.progress = Progress(
            "[bold]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            _rate_column(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.stages = stages
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.stages is not None and stage not in self.stages:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def __enter__(self) -> Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
