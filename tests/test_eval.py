"""`qa eval` end to end: on a small made-up SQuAD file with the hash model, and (integration) on
50 questions of the real SQuAD dev set with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli.commands import cli
from tests.conftest import ROOT

SQUAD_DEV = ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json.gz"
TOPICS = ["harbour storm boats", "bridge river tram", "concert hall fire", "forest rain trees"]


def made_up_squad(path: Path) -> Path:
    articles = []
    for number, topic in enumerate(TOPICS):
        words = topic.split()
        paragraphs = []
        for p in range(3):
            context = f"The {words[0]} story {p} tells of {words[1]} and {words[2]} "
            context += f"in year 19{number}{p}."
            answer = f"19{number}{p}"
            paragraphs.append(
                {
                    "context": context,
                    "qas": [
                        {
                            "id": f"{number}-{p}",
                            "question": f"In which year did the {words[0]} story {p} happen?",
                            "answers": [{"text": answer, "answer_start": context.index(answer)}],
                        }
                    ],
                }
            )
        articles.append({"title": topic.title(), "paragraphs": paragraphs})
    path.write_text(json.dumps({"data": articles}), encoding="utf-8")
    return path


def run_eval(tmp_path: Path, *args: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    data = made_up_squad(tmp_path / "mini.json")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["eval", str(data), "--model", "hash", "--index", str(tmp_path / "ix"), "--out", str(out),
         *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output, json.loads((out / "metrics.json").read_text())


def test_eval_compare_prints_baselines_and_writes_files(tmp_path: Path) -> None:
    output, metrics = run_eval(tmp_path, "--compare")
    assert set(metrics["retrieval"]) == {"keyword", "dense", "hybrid"}
    assert "| keyword |" in output and "| hybrid |" in output and "answer hit rate" in output
    assert metrics["questions_in_corpus"] == 12
    for row in metrics["retrieval"].values():
        assert 0.0 <= row["recall@1"] <= row["recall@5"] <= row["recall@10"] <= 1.0
    assert metrics["retrieval"]["keyword"]["recall@10"] > 0.5
    failures = (tmp_path / "out" / "failures.jsonl").read_text().splitlines()
    assert all("reasons" in json.loads(line) for line in failures)


def test_eval_out_of_corpus_and_split(tmp_path: Path) -> None:
    output, metrics = run_eval(tmp_path, "--out-of-corpus", "--holdout", "0.25", "--split")
    assert metrics["questions_out_of_corpus"] > 0
    assert metrics["abstention"]["correct_abstention"] is not None
    assert "tuned_abstain_below" in metrics["run"] and "Tuned on the even-numbered" in output
    # Only the odd-numbered articles are reported on.
    assert metrics["questions_in_corpus"] + metrics["questions_out_of_corpus"] <= 6


@pytest.mark.integration
@pytest.mark.skipif(not SQUAD_DEV.exists(), reason=f"{SQUAD_DEV} is not there")
def test_eval_on_real_squad_sample(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            str(SQUAD_DEV),
            "--limit",
            "50",
            "--index",
            str(tmp_path / "ix"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    hybrid = metrics["retrieval"]["hybrid"]
    assert metrics["questions_in_corpus"] == 50
    assert hybrid["recall@10"] > 0.8 and hybrid["mrr@10"] > 0.6
    assert metrics["answers"]["answer_hit_rate"] > 0.5


def test_eval_over_two_files_prints_each_and_their_mean(tmp_path: Path) -> None:
    first = made_up_squad(tmp_path / "first.json")
    second = tmp_path / "second.json"
    data = json.loads(first.read_text())
    data["data"] = data["data"][:2]  # a smaller second file: the mean is not just a copy
    second.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["eval", str(first), str(second), "--model", "hash", "--index", str(tmp_path / "ix"),
         "--out", str(out), "--compare"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "## first.json" in result.output and "## second.json" in result.output
    assert "## Mean of 2 files" in result.output
    both = json.loads((out / "metrics.json").read_text())
    per_file = both["per_file"]
    assert [m["questions_in_corpus"] for m in per_file] == [12, 6]
    assert both["mean"]["questions_in_corpus"] == 18
    for mode in ("keyword", "dense", "hybrid"):
        values = [m["retrieval"][mode]["mrr@10"] for m in per_file]
        assert both["mean"]["retrieval"][mode]["mrr@10"] == pytest.approx(sum(values) / 2)
    # Each file has its own index and its own results folder.
    assert (out / "first" / "metrics.json").exists() and (
        out / "second" / "failures.jsonl"
    ).exists()
    assert (tmp_path / "ix" / "first").is_dir() and (tmp_path / "ix" / "second").is_dir()
