"""``qa eval``: retrieval and answer quality on SQuAD-format data, against the baselines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qa.cli.llm import llm_config, llm_eval_options
from qa.cli.options import backend_option, json_option, reader_option


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
@click.option(
    "--compare",
    is_flag=True,
    help="Also score keyword-only and dense-only retrieval, and answers without the reader.",
)
@click.option(
    "--half",
    type=click.Choice(["all", "even", "odd"]),
    default="all",
    show_default=True,
    help="Ask only the questions of the odd-numbered (held-out) or even-numbered articles, "
    "with the shipped constants.",
)
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
@click.option(
    "--holdout",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.05, 0.95),
    help="With --out-of-corpus: the share of the articles left out.",
)
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
@reader_option
@llm_eval_options
@json_option
def eval_command(
    data: tuple[Path, ...],
    index_dir: Path | None,
    limit: int | None,
    seed: int,
    compare: bool,
    half: str,
    split: bool,
    out_of_corpus: bool,
    holdout: float,
    out_dir: Path,
    model: str | None,
    backend: str | None,
    no_reader: bool,
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    llm_check: str,
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

    The README's quality table is the held-out half with the shipped constants:

    \b
    Example:
      qa eval ../shared/data/squad-dev-v1.1.json.gz ../shared/data/squadshifts-nyt-dev.json.gz \\
        --half odd --out-of-corpus --limit 1500 --seed 7 --compare
    """
    from tqdm import tqdm

    from qa.cli.progress import TqdmProgress
    from qa.eval import evaluation
    from qa.eval.protocol import EvalSettings, evaluate_files

    llm = llm_config(llm_url, llm_model, llm_context, llm_timeout, llm_check)
    run = EvalSettings(
        limit, seed, compare, split, out_of_corpus, holdout, model, backend, llm,
        reader=not no_reader, half=half,
    )  # fmt: skip
    bars: list[Any] = []

    def questions(total: int) -> Callable[[], None]:
        bar = tqdm(total=total, desc="Questions", unit="q", disable=as_json)
        bars.append(bar)
        return lambda: bar.update(1)

    with TqdmProgress(disable=as_json) as progress:
        done, mean = evaluate_files(list(data), index_dir, out_dir, run, progress, questions)
    for bar in bars:
        bar.close()
    if mean is None:
        click.echo(json.dumps(done[0].summary, indent=2) if as_json else done[0].text)
        return
    if as_json:
        click.echo(json.dumps({"mean": mean, "per_file": [d.summary for d in done]}, indent=2))
        return
    for path, evaluated in zip(data, done, strict=True):
        click.echo(f"## {path.name}\n\n{evaluated.text}\n")
    click.echo(f"## Mean of {len(data)} files\n\n{evaluation.markdown(mean)}")
    click.echo(f"\nWrote {out_dir / 'metrics.json'}.")
