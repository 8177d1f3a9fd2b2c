"""``qa eval``: retrieval and answer quality on SQuAD-format data, against the baselines."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.cli.options import backend_option, json_option
from qa.llm.options import llm_config, llm_eval_options

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.eval.evaluation import Question
    from qa.llm import LLMConfig


@click.command(name="eval")
@click.argument(
    "data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder to build or reuse (default: eval-index/NAME; with several files, "
    "one folder per file inside it).",
)
@click.option("--limit", type=click.IntRange(1), help="Ask only N random questions (per group).")
@click.option("--seed", default=0, show_default=True, help="Seed for --limit and --out-of-corpus.")
@click.option("--compare", is_flag=True, help="Also score keyword-only and dense-only retrieval.")
@click.option(
    "--split",
    is_flag=True,
    help="Tune the fusion weight and abstain threshold on the even-numbered articles; report "
    "on the odd-numbered ones.",
)
@click.option(
    "--out-of-corpus",
    is_flag=True,
    help="Leave a share of the articles out of the index and check their questions abstain.",
)
@click.option("--holdout", default=0.25, show_default=True, type=click.FloatRange(0.05, 0.95))
@click.option(
    "--out",
    "out_dir",
    default="eval-results",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for metrics.json and failures.jsonl (with several files: one folder per file, "
    "and the mean in metrics.json).",
)
@click.option("--model", help="Model folder for a new evaluation index.")
@backend_option
@llm_eval_options
@json_option
def eval_command(
    data: tuple[Path, ...],
    index_dir: Path | None,
    limit: int | None,
    seed: int,
    compare: bool,
    split: bool,
    out_of_corpus: bool,
    holdout: float,
    out_dir: Path,
    model: str | None,
    backend: str | None,
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    as_json: bool,
) -> None:
    """Measure retrieval (recall@1/5/10, MRR, nDCG), answers and abstention on SQuAD data.

    Builds (or reuses) an index of each file's articles, asks every question (or --limit N of
    them) and prints a Markdown table per file, and their mean when there are several; writes
    metrics.json and failures.jsonl to --out.

    With --llm, the evaluated questions are also answered by the model (as ``qa ask --llm``
    does), reporting answer hit rate, citation recall/precision in the ALCE sense judged by
    our support check, the share of sentences dropped and the fallback rate next to the
    extractive figures (use --limit: a CPU server takes seconds per question).

    \b
    Example:
      qa eval ../shared/data/squad-dev-v1.1.json.gz ../shared/data/squadshifts-nyt-dev.json.gz \\
        --compare --out-of-corpus --split
    """
    from qa.eval import evaluation

    llm = llm_config(llm_url, llm_model, llm_context, llm_timeout)
    run = EvalSettings(
        limit, seed, compare, split, out_of_corpus, holdout, model, backend, llm, quiet=as_json
    )
    several = len(data) > 1
    summaries = []
    for path in data:
        name = path.name.split(".json")[0]
        summary, text = _evaluate(
            path,
            index_dir / name if several and index_dir else index_dir,
            out_dir / name if several else out_dir,
            run,
        )
        summaries.append(summary)
        if not as_json:
            click.echo(f"## {path.name}\n\n{text}\n" if several else text)
    if not several:
        if as_json:
            click.echo(json.dumps(summaries[0], indent=2))
        return
    mean = evaluation.mean_summary(summaries)
    mean["files"] = [str(path) for path in data]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(
        json.dumps({"mean": mean, "per_file": summaries}, indent=2) + "\n", encoding="utf-8"
    )
    if as_json:
        click.echo(json.dumps({"mean": mean, "per_file": summaries}, indent=2))
        return
    click.echo(f"## Mean of {len(data)} files\n\n{evaluation.markdown(mean)}")
    click.echo(f"\nWrote {out_dir / 'metrics.json'}.")


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """What ``qa eval`` asks of every file (its options, once)."""

    limit: int | None
    seed: int
    compare: bool
    split: bool
    out_of_corpus: bool
    holdout: float
    model: str | None
    backend: str | None
    llm: LLMConfig | None
    quiet: bool


def _evaluate(
    data: Path, index_dir: Path | None, out_dir: Path, run: EvalSettings
) -> tuple[dict[str, object], str]:
    """One file's evaluation: its summary and its Markdown report."""
    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.cli.progress import TqdmProgress
    from qa.eval import evaluation
    from qa.pipeline import answer as answer_module

    raw = evaluation.load_squad(data)
    numbers = list(range(len(raw)))
    held: set[int] = set()
    if run.out_of_corpus:
        held = set(random.Random(run.seed).sample(numbers, max(1, round(run.holdout * len(raw)))))
    stem = data.name.split(".json")[0]
    name = f"{stem}-holdout{round(run.holdout * 100)}-seed{run.seed}" if held else stem
    if run.backend:
        name = f"{name}-{run.backend}"
    index_dir = index_dir or Path("eval-index") / name
    kept = [i for i in numbers if i not in held]
    source = data
    if held:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        source = index_dir.parent / f"{index_dir.name}.articles.json"
        source.write_text(json.dumps({"data": [raw[i] for i in kept]}), encoding="utf-8")

    assistant = Assistant.open(index_dir, model=run.model, backend=run.backend)
    with TqdmProgress(disable=run.quiet) as progress:
        report = assistant.ingest([source], progress=progress)
    if not report.ok:
        raise click.ClickException(f"ingest failed: {report.failed[0]}")
    inside = evaluation.questions_for([raw[i] for i in kept], source, kept)
    outside = evaluation.questions_for([raw[i] for i in sorted(held)], None, sorted(held))
    modes = evaluation.MODES if run.compare else ("hybrid",)
    evaluator = evaluation.Evaluator(assistant)
    notes: dict[str, object] = {"index": str(index_dir), "data": str(data), "seed": run.seed}

    default_weight = assistant.retriever.weights.dense_share
    default_threshold = answer_module.ABSTAIN_BELOW
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
        tune_set = []
        test_set = evaluation.sample(inside, run.limit, run.seed) + evaluation.sample(
            outside, run.limit, run.seed
        )

    bar = tqdm(total=len(tune_set) + len(test_set), desc="Questions", unit="q", disable=run.quiet)

    def advance(done: int, total: int) -> None:
        bar.update(1)

    tune_results = evaluator.run(tune_set, ("hybrid",), advance) if tune_set else []
    results = evaluator.run(test_set, modes, advance)
    bar.close()
    threshold = answer_module.ABSTAIN_BELOW
    if run.split:
        threshold = evaluation.tune_threshold(tune_results)
        notes["tuned_abstain_below"] = threshold
    summary = evaluation.summarise(results, modes, threshold)
    if run.llm is not None:
        summary["generative"] = _evaluate_llm(assistant, test_set, run.llm, out_dir, run.quiet)
    summary["run"] = notes | {
        "split": "reported on the odd-numbered articles" if run.split else "all articles",
        "fusion_weights": dataclasses.asdict(assistant.retriever.weights),
        "limit": run.limit,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    with open(out_dir / "failures.jsonl", "w", encoding="utf-8") as handle:
        for row in evaluation.failures(results, threshold):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    text = evaluation.markdown(summary)
    if run.llm is not None:
        from qa.eval.generative import markdown_generative

        text += "\n\n" + markdown_generative(summary["generative"], summary)
    if run.split:
        text += (
            f"\n\nTuned on the even-numbered articles: dense weight {weight} (default "
            f"{default_weight}), abstain below {threshold:.3f} (default {default_threshold})."
        )
    text += f"\n\nWrote {out_dir / 'metrics.json'} and {out_dir / 'failures.jsonl'}."
    return summary, text


def _evaluate_llm(
    assistant: Assistant,
    questions: list[Question],
    llm: LLMConfig,
    out_dir: Path,
    quiet: bool,
) -> dict[str, Any]:
    """The --llm figures of ``questions``; each answer to generative.jsonl in ``out_dir``."""
    from tqdm import tqdm

    from qa.eval.generative import run_generative, summarise_generative

    bar = tqdm(total=len(questions), desc="Model answers", unit="q", disable=quiet)
    results = run_generative(assistant, questions, llm, lambda done, total: bar.update(1))
    bar.close()
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
    return summarise_generative(results)
