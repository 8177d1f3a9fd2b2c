"""The reader model at query time: the int8 ONNX cross-encoder trained here, no torch.

``ReaderModel(folder)`` loads ``reader.onnx`` and ``tokenizer.json`` from ``folder`` (default:
the model shipped in this package, ``embeddings/trained/``) on first use. Two heads over one
pass (``embeddings.reader_training``):

- ``answer_logits(questions, sentences)``: how surely each sentence answers its question;
- ``verify_logits(claims, evidence)``: supports / refutes / not enough info, per pair (trained
  in ``verifier.onnx``; ``reader.onnx`` keeps the head untrained, so the two share one network).

How it was trained, on what, and how well it does: ``embeddings/trained/README.md``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.base import EmbeddingError
from embeddings.onnx import session_options

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
MODEL_FILE = "reader.onnx"
VERIFIER_FILE = (
    "verifier.onnx"  # the verifier, trained apart (python -m qa.training --model verifier)
)
TOKENIZER_FILE = "tokenizer.json"
# Pair lengths the model was trained with (embeddings.reader_training.TrainSettings).
ANSWER_MAX_TOKENS = 80
VERIFY_MAX_TOKENS = 96
TITLE_WORDS = 10  # a title reads as at most this many words (see ``evidence_text``)
VERIFY_LABELS = ("supports", "refutes", "not_enough_info")
# Pairs per model call, read in order of length (``ReaderModel._run``): each call pads to its own
# longest pair. On a quiet 2-core machine, the 20 pairs of a five-sentence answer's check take
# 81 ms instead of 106 (p50, `python benchmarks/verifier_eval.py`), and the reader's 16
# sentences ~58 ms instead of ~76; 4, 6 and 10 pairs per call measured within noise of 8.
RUN_PAIRS = 8


class ReaderError(EmbeddingError):
    """The reader model is missing or damaged; the message names the file and the way on."""


_HEX = re.compile(r"^[0-9a-f]{16,}$")


def short_title(title: str) -> str:
    """A title as the reader reads it: words, not an address, at most ``TITLE_WORDS``.

    Titles come from files and feeds: "https://www.nytimes.com/2015/01/04/sports/making-the-
    case-for-don-mattingly.html" reads "making the case for don mattingly", a path reads as its
    last part. A long title would take the pair's token budget from the sentence itself (the
    first trained reader lost half of each news sentence to its address)."""
    text = title.strip()
    if "/" in text:
        parts = [p for p in re.split(r"[/\\]", text.split("?")[0].rstrip("/")) if p]
        text = parts[-1] if parts else text
        text = re.sub(r"\.(html?|php|aspx?|txt|md|pdf|docx?)$", "", text, flags=re.I)
    words = [w for w in re.split(r"[\s_\-]+", text) if w and not _HEX.match(w.lower())]
    return " ".join(words[:TITLE_WORDS])


def evidence_text(title: str, sentence: str) -> str:
    """Segment B of a pair, as trained: the short title, a line break, the sentence."""
    short = short_title(title)
    return f"{short}\n{sentence}" if short else sentence


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ReaderModel:
    """The shipped cross-encoder; thread-safe, loaded lazily."""

    def __init__(self, folder: Path | None = None, file_name: str = MODEL_FILE) -> None:
        self.folder = Path(folder) if folder is not None else TRAINED_DIR
        self.file_name = file_name
        self._session: Any = None
        self._tokenizers: dict[int, Any] = {}
        self._lock = threading.Lock()

    @property
    def model_file(self) -> Path:
        return self.folder / self.file_name

    def _missing(self, path: Path, why: str) -> ReaderError:
        return ReaderError(
            f"The reader model {path} {why}. Reinstall article-qa to restore it, or answer "
            "without it: --no-reader (Assistant.open(..., reader=False))."
        )

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._load()
        return self._session

    def _load(self) -> Any:
        path = self.model_file
        if not path.is_file():
            raise self._missing(path, "is missing")
        import onnxruntime as ort

        try:
            return ort.InferenceSession(
                str(path), session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # a truncated or altered file
            raise self._missing(path, f"cannot be loaded ({type(error).__name__})") from error

    def _tokenizer(self, max_tokens: int) -> Any:
        if max_tokens not in self._tokenizers:
            path = self.folder / TOKENIZER_FILE
            if not path.is_file():
                raise self._missing(path, "is missing")
            from tokenizers import Tokenizer

            try:
                tokenizer = Tokenizer.from_file(str(path))
            except Exception as error:
                raise self._missing(path, "cannot be read") from error
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
            self._tokenizers[max_tokens] = tokenizer
        return self._tokenizers[max_tokens]

    def _run(
        self, first: list[str], second: list[str], max_tokens: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        if len(first) != len(second):
            raise ValueError("first and second must have the same length")
        if not first:
            return np.zeros(0, np.float32), np.zeros((0, len(VERIFY_LABELS)), np.float32)
        session = self.session
        encodings = self._tokenizer(max_tokens).encode_batch(list(zip(first, second, strict=True)))
        # Pairs in order of length, RUN_PAIRS at a time: each call pads to its own longest pair,
        # not to the longest of all.
        order = sorted(range(len(encodings)), key=lambda n: len(encodings[n].ids))
        answer = np.zeros(len(encodings), np.float32)
        verify = np.zeros((len(encodings), len(VERIFY_LABELS)), np.float32)
        for start in range(0, len(order), RUN_PAIRS):
            group = order[start : start + RUN_PAIRS]
            width = max(len(encodings[n].ids) for n in group)
            ids = np.zeros((len(group), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for row, n in enumerate(group):
                size = len(encodings[n].ids)
                ids[row, :size] = encodings[n].ids
                types[row, :size] = encodings[n].type_ids
                mask[row, :size] = 1
            got_answer, got_verify = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
            answer[group] = np.asarray(got_answer, np.float32).reshape(len(group))
            verify[group] = np.asarray(got_verify, np.float32)
        return answer, verify

    def answer_logits(self, questions: list[str], sentences: list[str]) -> npt.NDArray[np.float32]:
        """One logit per (question, sentence): higher = the sentence answers the question."""
        return self._run(questions, sentences, ANSWER_MAX_TOKENS)[0]

    def verify_logits(self, claims: list[str], evidence: list[str]) -> npt.NDArray[np.float32]:
        """Three logits per (claim, evidence): supports, refutes, not enough info."""
        return self._run(claims, evidence, VERIFY_MAX_TOKENS)[1]
