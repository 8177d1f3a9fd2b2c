"""A sentence-transformers model run by ONNX Runtime: no torch at query time, 2-3x faster.

The model folder supplies the tokenizer (``tokenizer.json``, read by the ``tokenizers`` library),
the pooling mode and the length limit; the transformer itself runs from the ONNX file that
:mod:`embeddings.export` converts once and caches. Vectors are mean- (or CLS-) pooled over real
tokens and L2-normalised, as sentence-transformers does.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.base import EmbeddingError, Vectors
from embeddings.spans import Span, pool_spans, spans_alone

Encoded = tuple[list[int], list[tuple[int, int]]]  # a text's token ids and character offsets

# ONNX Runtime 1.29+ sends usage telemetry to Microsoft from Linux and macOS too, unless this is
# set before it starts; article-qa sends nothing anywhere (the tests' proxy trap caught it).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

BACKENDS = ("onnx-int8", "onnx", "torch")
DEFAULT_BACKEND = "onnx-int8"
# Texts per ONNX Runtime call: at most BATCH_SIZE, and at most BATCH_TOKENS padded tokens (rows
# x the longest). Smaller batches pad less and stay in cache: on 2 cores, 16 was faster than 32
# and 64 (benchmarks/README.md). The token cap bounds the call's working set, which grows with
# rows x tokens^2 (attention): SQuAD dev's ingest peaks at 385 MB without it, 268 MB at 1,024
# and 232 MB at 512, no slower (`benchmarks/ingest.py --batch-tokens N`; benchmarks/README.md,
# "Memory of ingest"). Callers sort texts by length first.
BATCH_SIZE = 16
BATCH_TOKENS = 512


def cpu_threads() -> int:
    """Cores this process may use (cgroup/affinity aware where the platform tells).

    ``OMP_NUM_THREADS`` caps it, as for other numeric libraries: Ray sets it to each worker's
    CPUs, so two workers on two cores run one thread each instead of fighting over both.
    """
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        cores = max(1, os.cpu_count() or 1)
    asked = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(asked)) if asked.isdigit() and int(asked) > 0 else cores


def session_options() -> Any:
    """ONNX Runtime options for the models here: ``cpu_threads()`` threads, errors only in the
    log (no optimizer chatter on stderr).

    The threads spin between the operators of one run and stop spinning when it ends. Sleeping
    between operators made each question wait for a woken thread at every operator (question
    embedding p50 1.9 ms, against 1.7 spinning); spinning on after the run kept both cores busy
    and slowed the FAISS search that follows (5.3 against 1.5 ms at 10k vectors). Together with
    FAISS's single-query search in one OpenMP thread (``embeddings.index``), on the 2-core
    machine, hybrid search over SQuAD dev (400 questions, eight alternating processes each):
    p50 3.2-3.7 ms against 3.9-4.7 sleeping, p95 4.2-5.2 against 5.2-6.7; bulk embedding 14.4k
    against 14.2k tokens/s (benchmarks/README.md, "Side by side with txtai")."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


class OnnxEmbedder:
    """``OnnxEmbedder(model_dir, name, quantized=True)``; converts and loads on first use."""

    def __init__(
        self,
        path: str | Path,
        name: str | None = None,
        quantized: bool = True,
        model_file: Path | None = None,
    ) -> None:
        folder = Path(path).expanduser()
        if not (folder / "tokenizer.json").is_file():
            raise EmbeddingError(
                f"{folder} has no tokenizer.json, which the ONNX backend needs. "
                "Use --backend torch for this model."
            )
        self._path = folder.resolve()
        self._name = name or self._path.name
        self.quantized = quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self._model_file = model_file  # this ONNX file instead of the cached conversion
        settings = _read_json(folder / "sentence_bert_config.json")
        self._max_tokens = int(settings.get("max_seq_length") or 512)
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        self._cls_pooling = bool(pooling.get("pooling_mode_cls_token"))
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str | None:
        return str(self._path)

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def session(self) -> Any:
        """The ONNX Runtime session (converts the model on first use, then loads it)."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._load()
        return self._session

    def _load(self) -> Any:
        from embeddings.export import ensure_onnx

        model_file = self._model_file or ensure_onnx(
            self._path, self.quantized, self._name, agreement=probe_agreement
        )
        try:
            import onnxruntime as ort

            options = session_options()
            session = ort.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise EmbeddingError(
                f"Could not load {model_file} ({error}). Delete it to convert the model again."
            ) from error
        self._inputs = {item.name for item in session.get_inputs()}
        return session

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._run(self._encode(["dimension"])).shape[1])
        return self._dimension

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(encoding.ids) for encoding in self.tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._encode(texts)
        order = token_order(encodings)
        ordered = [encodings[n] for n in order]
        parts = [self._run(ordered[b:e]) for b, e in calls([len(x[0]) for x in ordered])]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[Span]]) -> Vectors:
        """Each text's vector (exactly as ``embed`` gives it), then one per span: the mean of
        the text's contextual token vectors inside the span (late chunking, embeddings/spans.py).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._cls_pooling:  # a CLS vector has no per-token counterpart: embed spans alone
            return spans_alone(self.embed, texts, spans)
        rows: dict[int, list[Vectors]] = {}
        encodings = self._encode(texts)
        order = token_order(encodings)  # the calls ``embed`` makes, so the same vectors
        ordered = [encodings[n] for n in order]
        for begin, end in calls([len(x[0]) for x in ordered]):
            hidden, mask, offsets = self._forward(ordered[begin:end])
            pooled = _normalised(_mean_pool(hidden, mask))
            for n in range(end - begin):
                real = int(mask[n].sum())
                text = order[begin + n]
                span_rows = pool_spans(hidden[n, :real], offsets[n], spans[text], pooled[n])
                rows[text] = [pooled[n : n + 1], span_rows]
        every = [row for text in range(len(texts)) for row in rows[text]]
        return np.ascontiguousarray(np.vstack(every), dtype=np.float32)

    def _run(self, encodings: Sequence[Encoded]) -> Vectors:
        hidden, mask, _ = self._forward(encodings)
        pooled = hidden[:, 0, :] if self._cls_pooling else _mean_pool(hidden, mask)
        return _normalised(pooled)

    def _encode(self, texts: list[str]) -> list[Encoded]:
        """Each text's token ids and their character offsets, cut like sentence-transformers
        cuts inputs past the model's limit (the chunker makes sure chunks never get here too
        long; questions might)."""
        encoded: list[Encoded] = []
        for encoding in self.tokenizer.encode_batch(texts):
            row = list(encoding.ids)
            where = list(encoding.offsets)
            if len(row) > self._max_tokens:
                row = [*row[: self._max_tokens - 1], row[-1]]  # keep the closing [SEP]
                where = [*where[: self._max_tokens - 1], where[-1]]
            encoded.append((row, where))
        return encoded

    def _forward(
        self, encodings: Sequence[Encoded]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], list[list[tuple[int, int]]]]:
        """Token vectors (padded), the attention mask, and each text's token offsets."""
        session = self.session
        rows = [row for row, _ in encodings]
        offsets = [where for _, where in encodings]
        width = max(len(ids) for ids in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, row in enumerate(rows):
            ids[n, : len(row)] = row
            mask[n, : len(row)] = 1
        feed: dict[str, npt.NDArray[np.int64]] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feed)[0]
        return hidden, mask, offsets


def token_order(encodings: Sequence[Encoded]) -> list[int]:
    """Positions of ``encodings``, longest in tokens first (ties in their order).

    Callers sort texts by characters (``embeddings.batching``), and a call pads each text to its
    longest in tokens: calls cut from the texts in token order pad SQuAD dev's title-prefixed
    sentences (slices of 64) by 5.5% instead of 21.8%, and embed them ~25% faster
    (``benchmarks/call_order.py``; benchmarks/README.md, "Side by side with txtai")."""
    return sorted(range(len(encodings)), key=lambda n: -len(encodings[n][0]))


def calls(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Cut texts of these token lengths (in the caller's order) into ONNX Runtime calls of at
    most ``BATCH_SIZE`` texts and ``BATCH_TOKENS`` padded tokens; one text per call at least."""
    out: list[tuple[int, int]] = []
    begin, width = 0, 0
    for end, length in enumerate(lengths):
        wider = max(width, length)
        if end > begin and (end - begin >= BATCH_SIZE or (end - begin + 1) * wider > BATCH_TOKENS):
            out.append((begin, end))
            begin, wider = end, length
        width = wider
    if begin < len(lengths):
        out.append((begin, len(lengths)))
    return out


def _mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    weights = mask[..., None].astype(np.float32)
    return np.asarray(
        (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32
    )


def _normalised(pooled: npt.NDArray[np.float32]) -> Vectors:
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def probe_agreement(model_dir: Path, float_path: Path, quantized_path: Path) -> float:
    """The lowest cosine between the two models' vectors of ``embeddings.export.PROBES``: the
    conversion's check that an int8 setting kept the model's quality on this CPU."""
    from embeddings.export import PROBES

    texts = list(PROBES)
    exact = OnnxEmbedder(model_dir, model_file=float_path).embed(texts)
    approx = OnnxEmbedder(model_dir, model_file=quantized_path).embed(texts)
    return float((exact * approx).sum(axis=1).min())
