"""Progress bars for the CLI: one tqdm bar per stage, fed by ``progress(stage, done, total)``."""

from __future__ import annotations

from types import TracebackType
from typing import Any

# "Embedding" counts chunks and sentences (each has a vector), as the summary line does.
UNITS = {"Reading": "file", "Embedding": "text"}


class TqdmProgress:
    """A ``Progress`` callback that draws bars on stderr (rate and time left included)."""

    def __init__(self, disable: bool = False) -> None:
        self.disable = disable
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.disable:
            return
        bar = self._bars.get(stage)
        if bar is None:
            from tqdm import tqdm

            for other in self._bars.values():
                other.close()
            bar = tqdm(total=total, desc=stage, unit=UNITS.get(stage, "it"), dynamic_ncols=True)
            self._bars[stage] = bar
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for bar in self._bars.values():
            bar.close()
