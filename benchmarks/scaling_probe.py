"""Feasibility probes for issue 8 (docs/scaling-out.md): Milvus Lite and Ray on this machine.

    pip install pymilvus milvus-lite 'ray[data]'     # not in the core install
    python benchmarks/scaling_probe.py milvus [ROWS]          # default 5000
    python benchmarks/scaling_probe.py ray [ROWS]             # default 10000
    python benchmarks/scaling_probe.py ray-embed [CHUNKS] [ACTORS]   # default 2000 2
    python benchmarks/scaling_probe.py int8-batches

milvus: one local Milvus Lite file with a dense FLOAT_VECTOR, an analysed VARCHAR and a BM25
Function producing a SPARSE_FLOAT_VECTOR; times insert, dense, BM25, filtered, hybrid and
client-side-fused searches, a query by filter, gets, delete by expression and upsert.
ray: local cluster start and Ray Data map_batches with a callable class (trivial work).
ray-embed: the ONNX int8 model, in-process embed_sorted vs Ray Data actors; compares vectors.
int8-batches: whether a text's vector depends on the other texts in its batch.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    "sigma tau upsilon phi chi psi omega super bowl denver broncos carolina panthers normandy "
    "normans france river rhine amazon forest oxygen"
).split()


def timed(label: str, run: Callable[[], Any], reps: int = 20) -> Any:
    run()  # warm
    begin = time.perf_counter()
    for _ in range(reps):
        out = run()
    print(f"{label}: {(time.perf_counter() - begin) / reps * 1000:.1f} ms (mean of {reps})")
    return out


def milvus(rows: int) -> None:
    begin = time.perf_counter()
    from pymilvus import (
        AnnSearchRequest,
        DataType,
        Function,
        FunctionType,
        MilvusClient,
        WeightedRanker,
    )

    print(f"import pymilvus: {time.perf_counter() - begin:.2f}s")
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "probe.db")
    begin = time.perf_counter()
    client = MilvusClient(path)
    print(f"MilvusClient(file): {time.perf_counter() - begin:.2f}s")
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk_id", DataType.INT64, is_primary=True)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    schema.add_field("source", DataType.VARCHAR, max_length=4096)
    schema.add_field("date", DataType.VARCHAR, max_length=32)
    # Milvus Lite 3.2 has only the standard and jieba tokenizers ("english" is refused).
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=65535,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "standard"},
    )
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=384)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    index.add_index("dense", index_type=os.environ.get("DENSE_INDEX", "FLAT"), metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    begin = time.perf_counter()
    client.create_collection("chunks", schema=schema, index_params=index)
    print(f"create_collection: {time.perf_counter() - begin:.2f}s")

    vectors = np.random.default_rng(0).standard_normal((rows, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = [
        {
            "chunk_id": i + 1,
            "article_id": f"a{i // 10}",
            "source": f"/c/{'x' if i % 2 else 'y'}/f{i // 10}.md",
            "date": f"20{10 + i % 15:02d}-01-01",
            "text": " ".join(random.Random(i).choices(WORDS, k=120)),
            "dense": vectors[i].tolist(),
        }
        for i in range(rows)
    ]
    begin = time.perf_counter()
    for start in range(0, rows, 1000):
        client.insert("chunks", data[start : start + 1000])
    took = time.perf_counter() - begin
    print(f"insert {rows} rows (batches of 1000): {took:.2f}s = {rows / took:.0f} rows/s")
    begin = time.perf_counter()
    client.flush("chunks")
    print(f"flush: {time.perf_counter() - begin:.2f}s")

    query = vectors[7].tolist()
    dense_params = {"metric_type": "IP"}
    bm25_params = {"metric_type": "BM25"}
    hits = timed(
        "dense search k=50",
        lambda: client.search(
            "chunks", [query], anns_field="dense", limit=50, search_params=dense_params
        ),
    )
    print(f"  top hit {hits[0][0]['chunk_id']} ({hits[0][0]['distance']:.4f}); expected 8 (1.0)")
    hits = timed(
        "BM25 search k=50",
        lambda: client.search(
            "chunks",
            ["denver broncos oxygen"],
            anns_field="sparse",
            limit=50,
            search_params=bm25_params,
        ),
    )
    print(f"  {len(hits[0])} hits, top distance {hits[0][0]['distance']:.3f} (Lite: negative)")
    expr = 'source like "/c/x/%" and date >= "2015-01-01" and date <= "2020-12-31"'
    hits = timed(
        "dense search + filter expression",
        lambda: client.search(
            "chunks",
            [query],
            anns_field="dense",
            limit=50,
            filter=expr,
            search_params=dense_params,
            output_fields=["source", "date"],
        ),
    )
    assert all(
        h["entity"]["source"].startswith("/c/x/") and "2015" <= h["entity"]["date"][:4] <= "2020"
        for h in hits[0]
    )
    ids = "article_id in [" + ",".join(f'"a{i}"' for i in range(50)) + "]"
    timed(
        "BM25 search + article_id in [50 ids]",
        lambda: client.search(
            "chunks",
            ["denver broncos"],
            anns_field="sparse",
            limit=50,
            filter=ids,
            search_params=bm25_params,
        ),
    )

    def hybrid() -> Any:
        requests = [
            AnnSearchRequest(data=[query], anns_field="dense", param=dense_params, limit=50),
            AnnSearchRequest(
                data=["denver broncos oxygen"], anns_field="sparse", param=bm25_params, limit=50
            ),
        ]
        return client.hybrid_search("chunks", requests, WeightedRanker(0.6, 0.4), limit=10)

    timed("hybrid_search WeightedRanker(0.6, 0.4)", hybrid)

    def fused() -> Any:
        dense = client.search("chunks", [query], anns_field="dense", limit=50)
        keyword = client.search("chunks", ["denver broncos oxygen"], anns_field="sparse", limit=50)
        found = {h["chunk_id"] for h in dense[0]} | {h["chunk_id"] for h in keyword[0]}
        return client.get("chunks", ids=list(found), output_fields=["dense"])

    timed("client-side fusion: dense + BM25 search + get their vectors", fused)
    timed(
        "query chunk ids by filter (source prefix)",
        lambda: client.query(
            "chunks", filter='source like "/c/x/%"', output_fields=["chunk_id"], limit=16384
        ),
        reps=5,
    )
    timed(
        "get 10 rows by id",
        lambda: client.get("chunks", ids=list(range(1, 11)), output_fields=["article_id", "text"]),
    )
    begin = time.perf_counter()
    client.delete("chunks", filter='article_id in ["a1", "a2", "a3"]')
    print(f"delete by expression (3 articles): {(time.perf_counter() - begin) * 1000:.1f} ms")
    left = client.query("chunks", filter='article_id in ["a1", "a2", "a3"]')
    hits = client.search("chunks", [vectors[15].tolist()], anns_field="dense", limit=5)
    print(f"  rows left: {len(left)}; deleted chunk 16 searchable: {hits[0][0]['chunk_id'] == 16}")
    begin = time.perf_counter()
    client.upsert("chunks", data[100:110])
    print(f"upsert 10 rows: {(time.perf_counter() - begin) * 1000:.1f} ms")
    client.close()
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    print(f"on disk: {size / 2**20:.0f} MB")
    shutil.rmtree(folder, ignore_errors=True)


def ray_data(rows: int) -> None:
    begin = time.perf_counter()
    import ray
    import ray.data

    print(f"import ray: {time.perf_counter() - begin:.2f}s (ray {ray.__version__})")
    begin = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init(num_cpus=2): {time.perf_counter() - begin:.2f}s")

    class Work:
        def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
            batch["size"] = np.array([len(str(text)) for text in batch["text"]])
            return batch

    items = [{"chunk_id": i, "text": f"chunk {i} about the denver broncos"} for i in range(rows)]
    strategy = ray.data.ActorPoolStrategy(size=2)
    begin = time.perf_counter()
    out = ray.data.from_items(items).map_batches(Work, batch_size=256, compute=strategy).take_all()
    assert sorted(row["chunk_id"] for row in out) == list(range(rows))
    print(f"map_batches(callable class, 2 actors) {rows} rows: {time.perf_counter() - begin:.2f}s")
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    begin = time.perf_counter()
    out = ray.data.from_items(items).map_batches(Work, batch_size=256, compute=strategy).take_all()
    ordered = [row["chunk_id"] for row in out] == list(range(rows))
    print(f"again, preserve_order: {time.perf_counter() - begin:.2f}s (in order: {ordered})")
    begin = time.perf_counter()
    ray.shutdown()
    print(f"ray.shutdown: {time.perf_counter() - begin:.2f}s")


def _texts(count: int, base: int, step: int) -> list[str]:
    words = (ROOT / "corpus" / "articles" / "apollo-program.md").read_text().split()
    return [
        " ".join(words[(i * 37) % (len(words) - 200) :][: base + i % step]) for i in range(count)
    ]


def ray_embed(count: int, actors: int) -> None:
    from embeddings import embed_sorted, load_embedder

    texts = _texts(count, 120, 80)
    embedder = load_embedder(None, "onnx-int8")
    embedder.embed(["warm up"])
    begin = time.perf_counter()
    reference = embed_sorted(embedder, texts)
    took = time.perf_counter() - begin
    print(f"in-process embed_sorted, {count} chunks: {took:.1f}s = {count / took:.0f} chunks/s")
    import ray
    import ray.data

    begin = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - begin:.2f}s")

    class Embed:
        def __init__(self) -> None:
            sys.path.insert(0, str(ROOT))
            from embeddings import load_embedder

            self.embedder = load_embedder(None, "onnx-int8")
            self.embedder.embed(["warm up"])

        def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
            from embeddings import embed_sorted

            batch["vector"] = list(embed_sorted(self.embedder, [str(t) for t in batch["text"]]))
            return batch

    items = [{"i": i, "text": text} for i, text in enumerate(texts)]
    begin = time.perf_counter()
    rows = (
        ray.data.from_items(items)
        .map_batches(
            Embed,
            batch_size=256,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=2 / actors,
        )
        .take_all()
    )
    took = time.perf_counter() - begin
    print(f"Ray Data, {actors} actors: {took:.1f}s = {count / took:.0f} chunks/s (with start-up)")
    vectors = np.stack([row["vector"] for row in sorted(rows, key=lambda row: row["i"])])
    print(f"max |ray - in-process| = {np.abs(vectors - reference).max():.2e}")
    ray.shutdown()


def int8_batches() -> None:
    from embeddings import load_embedder

    texts = _texts(32, 20, 10_000)
    texts = [" ".join(text.split()[: 20 + 7 * i]) for i, text in enumerate(texts)]
    for backend in ("onnx-int8", "onnx"):
        embedder = load_embedder(None, backend)
        batch = embedder.embed(texts[:16])
        alone = np.stack([embedder.embed([text])[0] for text in texts[:16]])
        others = embedder.embed(texts[:8] + texts[16:24])[:8]
        print(
            f"{backend}: batch of 16 vs one at a time, max diff {np.abs(batch - alone).max():.2e}; "
            f"same 8 texts, other batch-mates {np.abs(batch[:8] - others).max():.2e}; "
            f"min cosine {(batch * alone).sum(1).min():.5f}"
        )


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "milvus"
    numbers = [int(arg) for arg in sys.argv[2:]]
    if what == "milvus":
        milvus(*(numbers or [5000]))
    elif what == "ray":
        ray_data(*(numbers or [10000]))
    elif what == "ray-embed":
        ray_embed(*(numbers or [2000, 2]))
    elif what == "int8-batches":
        int8_batches()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
