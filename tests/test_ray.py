"""``qa ingest --workers ray``: embedding on a local Ray cluster gives the in-process result.

One local cluster (2 CPUs) serves the tests marked ``ray``: starting one costs ~3 s. Those need
the extra (pip install 'article-qa[ray]'); the others (the error without Ray, the slice
bookkeeping) run without it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embeddings.distributed as distributed
from embeddings import HashEmbedder
from embeddings.batching import Batch
from embeddings.distributed import EmbedActor, RayError, RayGroups, _assemble, _Slice
from qa import Assistant, WorkersError
from qa.cli.commands import cli
from tests.conftest import CORPUS, MILVUS, ROOT, installed


def needs_ray(test: Callable[..., None]) -> Callable[..., None]:
    """Marks a test that starts Ray. Ray not installed: it skips (and fails under
    QA_REQUIRE_ALL); installed but broken: ``import ray`` fails the test."""
    skip = pytest.mark.skipif(
        not installed("ray"),
        reason="Ray is an optional extra (pip install 'article-qa[ray]'); make test installs it",
    )
    return pytest.mark.ray(skip(test))


Rows = list[tuple[int, str, int, int, int, str]]
# Names a file holding "SLICE": the worker that embeds that slice dies once (the file is renamed
# first, so the retry succeeds). Workers inherit the driver's environment.
FAULT_ENV = "QA_TEST_RAY_FAULT_FILE"


class DyingActor(EmbedActor):
    """The production actor, but its process exits once on the slice the fault file names:
    the fault comes from the test side, production code has no hook for it."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for index in batch["slice"]:
            _die_once(int(index))
        return super().__call__(batch)


def _die_once(index: int) -> None:
    marker = os.environ.get(FAULT_ENV)
    if not marker or not os.path.exists(marker):
        return
    with open(marker, encoding="utf-8") as handle:
        if handle.read().strip() != str(index):
            return
    try:
        os.rename(marker, marker + ".fired")  # only one worker wins, and only once
    except OSError:
        return
    os._exit(1)


@pytest.fixture(scope="module")
def fault_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running local cluster whose workers look at the returned path: writing a slice number
    there makes the worker that embeds that slice die once (``DyingActor``)."""
    import ray

    path = tmp_path_factory.mktemp("ray") / "fault"
    os.environ[FAULT_ENV] = str(path)  # workers inherit the driver's environment
    # Workers get DyingActor by value: they need not import this test module.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    saved, distributed.EmbedActor = distributed.EmbedActor, DyingActor  # type: ignore[misc]
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # as embeddings.distributed does: no report
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield path
    finally:
        ray.shutdown()
        distributed.EmbedActor = saved  # type: ignore[misc]
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        os.environ.pop(FAULT_ENV, None)


def ingest(
    index: Path, workers: str | None, embedder: HashEmbedder | None = None
) -> tuple[Rows, np.ndarray, int]:
    """Ingest the demo corpus; return chunk rows (id first), their vectors, chunks embedded."""
    with Assistant.open(index, embedder=embedder) as assistant:
        report = assistant.ingest([CORPUS], workers=workers)
        assert report.ok and len(report.added) == 12
    return (*read_rows(index), report.chunks_embedded)


def read_rows(index: Path) -> tuple[Rows, np.ndarray]:
    """Chunk rows (id first) of an index and their vectors, read from its files."""
    with Assistant.open(index, create=False) as assistant:
        rows = list(
            assistant.store.db.execute(
                "SELECT id, article_id, seq, start, end, text, vector FROM chunks ORDER BY id"
            )
        )
        assert sorted(assistant.store.vector_index.ids().tolist()) == [row[0] for row in rows]
    vectors = np.stack([np.frombuffer(row[-1], dtype=np.float32) for row in rows])
    return [row[:-1] for row in rows], vectors


@needs_ray
def test_ray_gives_the_in_process_index_with_the_default_model(
    fault_file: Path, tmp_path: Path, demo_index: Path
) -> None:
    # In process: the run's shared index of the demo corpus on the default model (conftest).
    rows, vectors = read_rows(demo_index)
    ray_rows, ray_vectors, ray_embedded = ingest(tmp_path / "ray", "ray")
    assert ray_rows == rows  # same chunk ids, articles, offsets and texts
    assert ray_embedded == len(rows) > 512  # more than one write group
    # Workers embed exactly the in-process slices, so even the int8 model agrees (it would
    # differ by up to 2.6e-2 with other batch-mates).
    assert np.abs(ray_vectors - vectors).max() <= 1e-6


@needs_ray
@pytest.mark.skipif(not MILVUS, reason="the milvus extra is not installed")
def test_ray_writes_into_a_milvus_store_as_in_process_does(
    fault_file: Path, tmp_path: Path
) -> None:
    """--workers ray --store milvus: the workers embed, the driver writes into Milvus."""
    found = []
    for workers in (None, "ray"):
        index = tmp_path / str(workers)
        with Assistant.open(index, embedder=HashEmbedder(dimension=64), store="milvus") as qa:
            assert qa.ingest([CORPUS], workers=workers).ok
            ids = [i for a in qa.articles() for i in qa.catalog.chunk_ids(a.id)]
            found.append((ids, qa.retriever.index.vectors(ids)))
    (ids, vectors), (ray_ids, ray_vectors) = found
    assert ray_ids == ids and len(set(ids)) == len(ids)  # Milvus's ids come from the content
    assert np.array_equal(ray_vectors, vectors)


@needs_ray
def test_a_dead_workers_slice_is_retried_not_lost_or_duplicated(
    fault_file: Path, tmp_path: Path
) -> None:
    rows, vectors, _ = ingest(tmp_path / "local", None, HashEmbedder(dimension=64))
    fault_file.write_text("3", encoding="utf-8")
    ray_rows, ray_vectors, ray_embedded = ingest(
        tmp_path / "ray", "ray", HashEmbedder(dimension=64)
    )
    assert not fault_file.exists() and Path(f"{fault_file}.fired").exists(), "no worker died"
    assert ray_rows == rows and np.array_equal(ray_vectors, vectors)
    assert ray_embedded == len(ray_rows)
    assert len({(row[1], row[2]) for row in ray_rows}) == len(ray_rows)  # no chunk twice


@needs_ray
def test_a_model_that_fails_on_the_workers_is_reported_in_its_own_words(fault_file: Path) -> None:
    embed = RayGroups("ray", "hash-abc", None)
    with pytest.raises(RayError, match="Unknown test model 'hash-abc'"):
        list(embed([Batch(["some text", "more text"])], lambda count: None))


def test_without_ray_installed_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with (
        Assistant.open(tmp_path / "index", embedder=HashEmbedder(dimension=64)) as assistant,
        pytest.raises(WorkersError, match=r"pip install 'article-qa\[ray\]'"),
    ):
        assistant.ingest([CORPUS / "rhine.md"], workers="ray")


def test_an_unknown_workers_value_is_refused(tmp_path: Path) -> None:
    with (
        Assistant.open(tmp_path / "index", embedder=HashEmbedder(dimension=64)) as assistant,
        pytest.raises(WorkersError, match="Unknown --workers value 'spark'"),
    ):
        assistant.ingest([CORPUS / "rhine.md"], workers="spark")
    with Assistant.open(tmp_path / "index") as reopened:
        assert reopened.stats().articles == 0


@needs_ray
def test_an_unreachable_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    # A fresh process, so Ray's client reads a short connection timeout (default 30 s).
    env = {
        **os.environ,
        "RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S": "1",
        "RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S": "1",
    }
    command = ["ingest", str(CORPUS / "rhine.md"), "--model", "hash-64", "-q"]
    command += ["--index", str(tmp_path / "index"), "--workers", "ray://127.0.0.1:1"]
    done = subprocess.run(
        [sys.executable, "-m", "qa", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,  # a safety net for a hung process, not a speed limit
    )
    assert done.returncode == 1
    assert "Error: Could not start or reach ray://127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr


@needs_ray
def test_the_cli_starts_and_stops_its_own_cluster(tmp_path: Path) -> None:
    index = tmp_path / "index"
    command = ["ingest", str(CORPUS), "--model", "hash-64", "--index", str(index), "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "qa", *command, "--workers", "ray"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,  # a safety net for a hung process, not a speed limit
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added 12, updated 0")
    with Assistant.open(index) as assistant:
        assert assistant.stats().chunks == len(assistant.store.vector_index.ids()) > 12


def test_ingest_help_explains_workers() -> None:
    output = CliRunner().invoke(cli, ["ingest", "--help"]).output
    assert "--workers" in output and "ray://HOST:10001" in output


def slices() -> list[_Slice]:
    # Group 0 has 3 texts in two slices; group 1 has 1 text in one slice.
    return [_Slice(0, [2, 0]), _Slice(0, [1]), _Slice(1, [0])]


def result(index: int, values: list[float]) -> dict[str, object]:
    return {"slice": index, "vectors": np.asarray(values, dtype=np.float32).tobytes()}


def test_slices_are_put_back_in_place_and_groups_yielded_in_order() -> None:
    done: list[int] = []
    groups = list(
        _assemble(
            [result(1, [1.0]), result(2, [9.0]), result(0, [2.0, 0.0])],
            slices(),
            [3, 1],
            done.append,
        )
    )
    assert [group.ravel().tolist() for group in groups] == [[0.0, 1.0, 2.0], [9.0]]
    assert done == [1, 1, 2]


@pytest.mark.parametrize(
    "results, message",
    [
        ([result(0, [2.0, 0.0]), result(0, [2.0, 0.0])], "twice"),
        ([result(0, [2.0, 0.0]), result(2, [9.0])], "without 1 of 3 slices"),
    ],
)
def test_a_duplicated_or_missing_slice_fails_before_its_group_is_written(
    results: list[dict[str, object]], message: str
) -> None:
    written: list[np.ndarray] = []
    with pytest.raises(RayError, match=message):
        for group in _assemble(results, slices(), [3, 1], lambda count: None):
            written.append(group)
    assert written == []
