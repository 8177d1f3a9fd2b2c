"""The evaluation protocol of ``qa eval``: which articles are indexed, which questions are asked,
what is tuned on which half, and what is reported. The CLI only parses options and prints.

Per file: the articles (all, or all but a held-out share with ``out_of_corpus``) are ingested
into an index; questions are sampled (``limit`` per group, ``seed``); each is ranked in every
retrieval mode and answered on every answer path (the reader on, and off with ``compare``);
then the metrics are computed with each path's abstain threshold.

- ``half="odd"`` reports on the odd-numbered articles with the shipped constants (the held-out
  half: figures in the README come from here);
- ``split`` tunes the fusion weight and the abstain thresholds on the even-numbered articles and
  reports on the odd-numbered ones.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.assistant import Assistant
from qa.errors import QAError
from qa.eval import evaluation
from qa.eval.evaluation import NO_READER_PATH, READER_PATH, Question
from qa.pipeline.ingest import Progress

if TYPE_CHECKING:
    from qa.llm import LLMConfig

Advance = Callable[[], None]
HALVES = ("all", "even", "odd")


@dataclass(frozen=True)
class EvalSettings:
    """What ``qa eval`` asks of every file (its options, once)."""

    limit: int | None = None
    seed: int = 0
    compare: bool = False
    split: bool = False
    out_of_corpus: bool = False
    holdout: float = 0.25
    model: str | None = None
    backend: str | None = None
    llm: LLMConfig | None = None
    reader: bool = True
    half: str = "all"

    def __post_init__(self) -> None:
        if self.half not in HALVES:
            raise QAError(
                f"half must be one of {', '.join(HALVES)}. Currently, it is {self.half!r}"
            )
        if self.split and self.half != "all":
            raise QAError("--split already reports on the odd half; leave --half out.")


@dataclass(frozen=True)
class FileEvaluation:
    """One file's figures (``summary``, as metrics.json holds them) and its Markdown report."""

    summary: dict[str, Any]
    text: str


def index_name(data: Path, run: EvalSettings) -> str:
    stem = data.name.split(".json")[0]
    name = f"{stem}-holdout{round(run.holdout * 100)}-seed{run.seed}" if run.out_of_corpus else stem
    return f"{name}-{run.backend}" if run.backend else name


@dataclass(frozen=True)
class Indexed:
    """One file's articles ingested as ``qa eval`` indexes them, and its questions: those of
    indexed articles (``inside``) and of the held-out ones (``outside``), of ``run.half``."""

    assistant: Assistant
    index_dir: Path
    inside: list[Question]
    outside: list[Question]


def indexed(
    data: Path, index_dir: Path | None, run: EvalSettings, ingest_progress: Progress | None = None
) -> Indexed:
    """Ingest ``data`` (all articles, or all but the held-out share with ``run.out_of_corpus``:
    ``run.seed`` draws them) into ``index_dir`` (default ``eval-index/<name>``; an index already
    there is brought up to date, not rebuilt)."""
    raw = evaluation.load_squad(data)
    numbers = list(range(len(raw)))
    held: set[int] = set()
    if run.out_of_corpus:
        held = set(random.Random(run.seed).sample(numbers, max(1, round(run.holdout * len(raw)))))
    index_dir = index_dir or Path("eval-index") / index_name(data, run)
    kept = [i for i in numbers if i not in held]
    source = data
    if held:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        source = index_dir.parent / f"{index_dir.name}.articles.json"
        source.write_text(json.dumps({"data": [raw[i] for i in kept]}), encoding="utf-8")

    assistant = Assistant.open(index_dir, model=run.model, backend=run.backend, reader=run.reader)
    report = assistant.ingest([source], progress=ingest_progress)
    if not report.ok:
        assistant.close()
        raise QAError(f"ingest failed: {report.failed[0]}")
    inside = evaluation.questions_for([raw[i] for i in kept], source, kept)
    outside = evaluation.questions_for([raw[i] for i in sorted(held)], None, sorted(held))
    if run.half != "all":
        parity = 1 if run.half == "odd" else 0
        inside = [q for q in inside if q.article_number % 2 == parity]
        outside = [q for q in outside if q.article_number % 2 == parity]
    return Indexed(assistant, index_dir, inside, outside)


def evaluate_file(
    data: Path,
    index_dir: Path | None,
    out_dir: Path,
    run: EvalSettings,
    ingest_progress: Progress | None = None,
    question_progress: Callable[[int], Advance] | None = None,
) -> FileEvaluation:
    """Evaluate one SQuAD-format file; writes metrics.json and failures.jsonl to ``out_dir``.

    ``question_progress(total)`` is called once with the number of questions to ask and
    returns what to call after each one (a progress bar's update)."""
    found = indexed(data, index_dir, run, ingest_progress)
    assistant, index_dir, inside, outside = (
        found.assistant, found.index_dir, found.inside, found.outside
    )  # fmt: skip
    modes: tuple[str, ...] = evaluation.MODES if run.compare else ("hybrid",)
    paths: tuple[str, ...] = (READER_PATH,) if run.reader else (NO_READER_PATH,)
    if run.reader:
        modes += (evaluation.READER_MODE,)
        if run.compare:
            paths += (NO_READER_PATH,)
    evaluator = evaluation.Evaluator(assistant)
    notes: dict[str, Any] = {"index": str(index_dir), "data": str(data), "seed": run.seed}
    default_weight = assistant.retriever.weights.dense_share
    tune_set: list[Question] = []
    if run.split:
        tune_in = evaluation.sample(
            [q for q in inside if q.article_number % 2 == 0], run.limit, run.seed
        )
        weight, scores = evaluation.tune_dense_weight(evaluator, tune_in)
        assistant.fusion = assistant.retriever.weights.with_dense_share(weight)
        notes["tuned_dense_weight"] = weight
        notes["mrr@10_by_dense_weight_on_tune_half"] = scores
        test_in = evaluation.sample(
            [q for q in inside if q.article_number % 2], run.limit, run.seed
        )
        tune_out = [q for q in outside if q.article_number % 2 == 0]
        test_out = [q for q in outside if q.article_number % 2]
        tune_set = tune_in + evaluation.sample(tune_out, run.limit, run.seed)
        test_set = test_in + evaluation.sample(test_out, run.limit, run.seed)
    else:
        test_set = evaluation.sample(inside, run.limit, run.seed) + evaluation.sample(
            outside, run.limit, run.seed
        )

    advance = question_progress(len(tune_set) + len(test_set)) if question_progress else None

    def step(done: int, total: int) -> None:
        if advance is not None:
            advance()

    tune_results = evaluator.run(tune_set, ("hybrid",), step, paths) if tune_set else []
    results = evaluator.run(test_set, modes, step, paths)
    thresholds = {path: evaluation.default_threshold(path) for path in paths}
    if run.split:
        thresholds = {path: evaluation.tune_threshold(tune_results, path) for path in paths}
        notes["tuned_abstain_below"] = thresholds
    summary = evaluation.summarise(results, modes, thresholds)
    if run.llm is not None:
        summary["generative"] = evaluate_generative(
            assistant, test_set, run.llm, out_dir, question_progress
        )
    summary["run"] = notes | {
        "split": "reported on the odd-numbered articles"
        if run.split or run.half == "odd"
        else f"{run.half} articles",
        "fusion_weights": dataclasses.asdict(assistant.retriever.weights),
        "limit": run.limit,
        "reader": run.reader,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    first = paths[0]
    with open(out_dir / "failures.jsonl", "w", encoding="utf-8") as handle:
        for row in evaluation.failures(results, thresholds[first]):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    text = evaluation.markdown(summary)
    if run.llm is not None:
        from qa.eval.generative import markdown_generative

        text += "\n\n" + markdown_generative(summary["generative"], summary)
    if run.split:
        tuned = ", ".join(f"{path} {value:.3f}" for path, value in thresholds.items())
        text += (
            f"\n\nTuned on the even-numbered articles: dense weight {notes['tuned_dense_weight']} "
            f"(default {default_weight}), abstain below: {tuned}."
        )
    text += f"\n\nWrote {out_dir / 'metrics.json'} and {out_dir / 'failures.jsonl'}."
    assistant.close()
    return FileEvaluation(summary, text)


def evaluate_generative(
    assistant: Assistant,
    questions: list[Question],
    llm: LLMConfig,
    out_dir: Path,
    question_progress: Callable[[int], Advance] | None = None,
) -> dict[str, Any]:
    """The --llm figures of ``questions``; each answer to generative.jsonl in ``out_dir``."""
    from qa.eval.generative import run_generative, summarise_generative

    advance = question_progress(len(questions)) if question_progress else None

    def step(done: int, total: int) -> None:
        if advance is not None:
            advance()

    results = run_generative(assistant, questions, llm, step)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "generative.jsonl", "w", encoding="utf-8") as handle:
        for r in results:
            row = {
                "id": r.question.id,
                "question": r.question.question,
                "answers": r.question.answers,
                "mode": r.mode,
                "answer": r.text,
                "hit": r.hit,
                "notice": r.notice,
                "sentences": [s.to_dict() for s in r.sentences],
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return summarise_generative(results, llm.check)


def evaluate_files(
    files: list[Path],
    index_dir: Path | None,
    out_dir: Path,
    run: EvalSettings,
    ingest_progress: Progress | None = None,
    question_progress: Callable[[int], Advance] | None = None,
) -> tuple[list[FileEvaluation], dict[str, Any] | None]:
    """Each file's evaluation, and with several files their mean (written to
    ``out_dir``/metrics.json beside one folder per file)."""
    several = len(files) > 1
    done = []
    for path in files:
        name = path.name.split(".json")[0]
        done.append(
            evaluate_file(
                path,
                index_dir / name if several and index_dir else index_dir,
                out_dir / name if several else out_dir,
                run,
                ingest_progress,
                question_progress,
            )
        )
    if not several:
        return done, None
    mean = evaluation.mean_summary([d.summary for d in done])
    mean["files"] = [str(path) for path in files]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(
        json.dumps({"mean": mean, "per_file": [d.summary for d in done]}, indent=2) + "\n",
        encoding="utf-8",
    )
    return done, mean
