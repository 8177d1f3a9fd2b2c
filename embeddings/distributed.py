"""Embed on a Ray cluster (``qa ingest --workers ray``): the same slices, other machines.

The driver (the ``qa ingest`` process) decides every group and every slice of texts with
:func:`embeddings.batching.sorted_slices`, exactly as the in-process path does; Ray workers only
run ``embedder.embed(slice)``. The int8 model's vectors depend on their batch-mates, so this is
what makes Ray's vectors equal the in-process ones (docs/scaling-out.md).

Ray is an optional extra (``pip install 'article-qa[ray]'``), imported only here and only when
embedding starts. Each node needs article-qa, its model folder and the same Ray version.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.base import EmbeddingError, Vectors
from embeddings.batching import Batch, sorted_slices
from embeddings.models import load_embedder
from embeddings.spans import embed_with_spans

RAY_EXTRA = "pip install 'article-qa[ray]'"
LOCAL = "ray"
CLIENT_SCHEME = "ray://"
# A worker that dies (crash, lost node) is restarted and its slice run again, this often at
# most; then the ingest fails rather than retrying a slice that kills every worker forever.
WORKER_RESTARTS = 3
# Environment variables a local cluster's workers get from the driver: the ONNX cache, so
# workers load the model the driver converted instead of converting it again each.
FORWARDED_ENV = ("QA_CACHE_DIR", "XDG_CACHE_HOME")


class RayError(EmbeddingError):
    """The Ray cluster could not be used; the message is written for users."""


def ray_address(workers: str) -> str | None:
    """``"ray"`` -> ``None`` (start a local cluster); ``"ray://host:port"`` -> that address."""
    if workers == LOCAL:
        return None
    if workers.startswith(CLIENT_SCHEME) and len(workers) > len(CLIENT_SCHEME):
        return workers
    raise RayError(
        f"Unknown --workers value {workers!r}: use 'ray' (a local Ray cluster on this machine) "
        "or 'ray://HOST:PORT' (a Ray cluster's client address, usually port 10001)."
    )


@dataclass
class _Slice:
    group: int
    positions: list[int]  # where its vectors go in the group's (Batch.destinations)


class RayGroups:
    """A ``GroupEmbedder`` that embeds all groups in one streaming Ray Data pipeline.

    ``RayGroups("ray", spec, backend)`` starts a local cluster using ``num_cpus`` cores (default:
    all) and stops it afterwards; ``RayGroups("ray://host:10001", ...)`` uses that cluster and
    every CPU it has. If this process is already connected to Ray (``ray.init`` was called), that
    connection is used and left open. Workers load the model from ``(spec, backend)``, as
    ``load_embedder`` takes them, once per worker.
    """

    def __init__(
        self,
        workers: str,
        spec: str | None,
        backend: str | None,
        *,
        num_cpus: int | None = None,
    ) -> None:
        self.workers = workers
        self.address = ray_address(workers)
        self.spec = spec
        self.backend = backend
        self.num_cpus = num_cpus

    def __call__(
        self, groups: Iterable[Batch], on_done: Callable[[int], None]
    ) -> Generator[Vectors, None, None]:
        batches = list(groups)
        slices: list[_Slice] = []
        rows: list[dict[str, Any]] = []
        for group, batch in enumerate(batches):
            for positions in sorted_slices(batch.texts):
                spans = None if batch.spans is None else [batch.spans[i] for i in positions]
                rows.append(
                    {
                        "slice": len(slices),
                        "texts": [batch.texts[i] for i in positions],
                        # JSON: one plain string per slice, whatever Ray Data does with lists
                        "spans": "" if spans is None else json.dumps(spans),
                    }
                )
                slices.append(_Slice(group, batch.destinations(positions)))
        if not rows:
            for _ in batches:
                yield np.zeros((0, 0), dtype=np.float32)
            return
        ray = _import_ray()
        started = self._connect(ray)
        results = self._stream(ray, rows)
        try:
            yield from _assemble(results, slices, [batch.rows for batch in batches], on_done)
        finally:
            results.close()  # Ray Data's iterator cleans up while still connected
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        """Connect to the cluster; True if we started it (so we stop it too)."""
        if ray.is_initialized():
            return False
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address is None:
                # A local cluster we start sends no usage report: Ray's (on unless turned off)
                # asks the AWS, GCP and Azure metadata addresses which cloud it runs on.
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
                ray.init(
                    num_cpus=self.num_cpus or os.cpu_count() or 1,
                    include_dashboard=False,
                    runtime_env={"env_vars": env} if env else None,
                    **quiet,
                )
            else:
                with warnings.catch_warnings():  # a timeout warns, then raises: say it once
                    warnings.simplefilter("ignore", UserWarning)
                    ray.init(address=self.address, **quiet)
        except Exception as error:
            where = "a local Ray cluster" if self.address is None else self.address
            raise RayError(
                f"Could not start or reach {where}: {_first_line(error)}. "
                + (
                    "Check that the Ray head is running (ray start --head) and that its client "
                    "port (usually 10001) is reachable from here, with the same Ray version."
                    if self.address is not None
                    else "Try again, or ingest without --workers."
                )
            ) from error
        return True

    def _stream(
        self, ray: Any, rows: list[dict[str, Any]]
    ) -> Generator[dict[str, Any], None, None]:
        """Results ``{"slice", "vectors"}`` as workers finish them, in slice order."""
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actors = max(1, min(cpus, len(rows)))
        context = ray.data.DataContext.get_current()
        saved = (
            context.enable_progress_bars,
            context.print_on_execution_start,
            context.execution_options.preserve_order,
        )
        # A dataset copies the context when it is made: set ours for it, then put the user's
        # back. Our own progress bar replaces Ray's; order kept so groups complete in turn.
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.execution_options.preserve_order = True
        try:
            dataset = self._pipeline(ray, rows, actors)
        finally:
            (
                context.enable_progress_bars,
                context.print_on_execution_start,
                context.execution_options.preserve_order,
            ) = saved
        with _quiet_ray_logs():
            try:
                yield from dataset.iter_rows()
            except Exception as error:
                raise RayError(f"Embedding on Ray failed: {_cause(error)}") from error

    def _pipeline(self, ray: Any, rows: list[dict[str, Any]], actors: int) -> Any:
        # Ray 2.60 has no named parameters for max_restarts and max_task_retries yet, and warns
        # that free-form remote args go in 2.64; without them Ray Data's default is to restart
        # forever, so a slice that kills every worker would hang the ingest.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
                EmbedActor,
                batch_size=1,  # one slice per call: exactly the batches the driver cut
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors),
                fn_constructor_args=(self.spec, self.backend),
                num_cpus=1,  # Ray sets OMP_NUM_THREADS=1: one ONNX thread per worker
                max_restarts=WORKER_RESTARTS,
                max_task_retries=WORKER_RESTARTS,
            )


class EmbedActor:
    """Runs on a Ray worker: loads the model once, then embeds one slice per call."""

    def __init__(self, spec: str | None, backend: str | None) -> None:
        self.embedder = load_embedder(spec, backend)
        self.embedder.dimension  # noqa: B018 (loads the model now, not in the first call)

    def __call__(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        vectors = []
        spans_of = batch["spans"] if "spans" in batch else [""] * len(batch["texts"])
        for texts, spans in zip(batch["texts"], spans_of, strict=True):
            plain = [str(text) for text in texts]
            if spans:
                pieces = [[(int(a), int(b)) for a, b in ss] for ss in json.loads(str(spans))]
                embedded = embed_with_spans(self.embedder, plain, pieces)
            else:
                embedded = self.embedder.embed(plain)
            vectors.append(np.ascontiguousarray(embedded, dtype=np.float32).tobytes())
        return {"slice": np.asarray(batch["slice"]), "vectors": np.array(vectors, dtype=object)}


def _assemble(
    results: Iterable[dict[str, Any]],
    slices: list[_Slice],
    group_sizes: list[int],
    on_done: Callable[[int], None],
) -> Generator[Vectors, None, None]:
    """Put each slice's vectors in place; yield every group once all its slices are in.

    A slice that comes back twice or never is an error, raised before its group is yielded,
    so a group is written whole or not at all.
    """
    left = [0] * len(group_sizes)
    for piece in slices:
        left[piece.group] += 1
    out: dict[int, Vectors] = {}
    seen: set[int] = set()
    next_group = 0
    for row in results:
        index = int(row["slice"])
        if index in seen or not 0 <= index < len(slices):
            raise RayError(
                f"Ray returned slice {index} twice or out of range; nothing of it "
                "was written. Run the same command again."
            )
        seen.add(index)
        piece = slices[index]
        vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(piece.positions), -1)
        if piece.group not in out:
            out[piece.group] = np.zeros(
                (group_sizes[piece.group], vectors.shape[1]), dtype=np.float32
            )
        out[piece.group][piece.positions] = vectors
        left[piece.group] -= 1
        on_done(len(piece.positions))
        while next_group < len(group_sizes) and left[next_group] == 0:
            yield out.pop(next_group, np.zeros((0, 0), dtype=np.float32))
            next_group += 1
    if next_group < len(group_sizes):
        missing = len(slices) - len(seen)
        raise RayError(
            f"Ray finished without {missing} of {len(slices)} slices; the articles waiting for "
            "them were not written. Run the same command again: what was written is kept."
        )


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise RayError(
            f"--workers ray needs Ray, which is not installed: {RAY_EXTRA} ({_first_line(error)})."
        ) from error
    return ray


@contextlib.contextmanager
def _quiet_ray_logs() -> Iterator[None]:
    """Ray Data logs each run's plan, and warns that its progress bars are off (ours replace
    them): keep its errors only; failures reach the user as exceptions anyway."""
    logger = logging.getLogger("ray.data")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _cause(error: BaseException) -> str:
    """The message of our own error (a model that failed to load on a worker, say) from the
    traceback text Ray wraps it in, else Ray's first line."""
    ours = f"{EmbeddingError.__module__}.{EmbeddingError.__qualname__}: "
    current: BaseException | None = error
    for _ in range(10):  # Ray chains a few wrappers; never loop on a cycle
        if current is None:
            break
        for line in reversed(str(current).splitlines()):
            if line.strip().startswith(ours):
                return line.strip().removeprefix(ours)
        current = current.__cause__ or current.__context__
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
