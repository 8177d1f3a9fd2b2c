"""The support check of generated sentences (qa/llm/check.py): the trained verifier against the
cosine check, on articles never trained on.

    nice -n 10 python benchmarks/verifier_eval.py [--side held-out] [--claims 600] [--file F]
        [--supports-at-least P]

``--side held-out`` (the default) reports on the odd-numbered articles and VitaminC titles;
``--side calibration`` on the calibration ones (every fifth even one, never trained on: where
``SUPPORTS_AT_LEAST`` is chosen, printed as the highest threshold keeping 95% of true claims).

- VitaminC: 3-way accuracy and supports-vs-rest F1 of the verifier head alone (argmax), and of
  check.py itself: each claim cites its evidence as passage [1] and ``SupportChecker`` decides
  (kept: supports; shown as contradicted: refutes; dropped without a quote: not enough info),
  with its threshold and its checks on the text.
- Claims from SQuAD dev and NYT dev questions, checked as ``qa ask --llm`` checks a sentence:
  the claim cites passage [1] (its paragraph) among five given passages of its article:
  - true: "question: gold answer." (must be kept);
  - refuting paraphrase: the gold sentence itself with its answer replaced by another number or
    name of the paragraph: same words, another fact (must be dropped);
  - refuting claim: "question: another number or name." (must be dropped);
  - unsupported: the true claim, with its gold sentence removed from the passages (must be
    dropped: nothing given says it).
- The share the verifier shows as contradicted ("✗", with the quote that says otherwise), per
  kind: a refuting one should be, a true one never.
- Check time per answer of five sentences (p50 over the claims, five at a time): five true
  claims each citing its own paragraph, and five citing one claim's passages (four of them
  about no passage given, so every quote is read).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings import Embedder, load_embedder  # noqa: E402
from embeddings.reader import VERIFIER_FILE, ReaderModel, evidence_text  # noqa: E402
from qa.llm import check  # noqa: E402
from qa.llm.check import AnswerSentence, SupportChecker  # noqa: E402
from qa.training.data import (  # noqa: E402
    LABELS,
    article_side,
    claim_of,
    gold_sentences,
    load_json,
    load_jsonl,
    squad_questions,
    swapped_answer,
    title_text,
    titles_on,
)
from qa.types import Passage  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def vitaminc(
    model: ReaderModel, embedder: Embedder, side: str, limit: int, seed: int
) -> dict[str, dict[str, float]]:
    """The model's 3-way labels (argmax), and check.py's own verdict: the claim cites its
    evidence (under its title) as passage [1] and ``SupportChecker`` decides, so "supports" is
    kept, "refutes" is shown as contradicted, and "not enough info" is dropped without a quote."""
    rows = load_jsonl(DATA / "train" / "vitaminc.jsonl.gz")
    titles = titles_on([str(r["title"]) for r in rows], side)
    rows = [r for r in rows if str(r["title"]) in titles]
    rows = random.Random(seed).sample(rows, min(limit, len(rows)))
    logits = np.vstack(
        [
            model.verify_logits(
                [str(r["claim"]) for r in rows[b : b + 32]],
                [evidence_text(str(r["title"]), str(r["evidence"])) for r in rows[b : b + 32]],
            )
            for b in range(0, len(rows), 32)
        ]
    )
    gold = np.array([LABELS.index(str(r["label"])) for r in rows])
    checked = np.full(len(rows), LABELS.index("not_enough_info"))
    for n, r in enumerate(rows):
        passage = passage_of(str(r["title"]), str(r["evidence"]), 1)
        supported, refuted = verdict(
            SupportChecker([passage], embedder, verifier=model), str(r["claim"])
        )
        if supported:
            checked[n] = LABELS.index("supports")
        elif refuted:
            checked[n] = LABELS.index("refutes")
    return {
        "model (argmax)": _scores(logits.argmax(axis=1), gold),
        "check.py": _scores(checked, gold),
    }


def _scores(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    tp = int(((predicted == 0) & (gold == 0)).sum())
    precision = tp / max(1, int((predicted == 0).sum()))
    recall = tp / max(1, int((gold == 0).sum()))
    return {
        "pairs": len(gold),
        "accuracy": round(float((predicted == gold).mean()), 3),
        "supports_f1": round(2 * precision * recall / max(1e-9, precision + recall), 3),
    }


def passage_of(title: str, text: str, number: int) -> Passage:
    return Passage(number, title, title, None, None, "", text, 0, len(text), 1.0, number, 0, 0)


def claims(side: str, limit: int, seed: int) -> list[dict[str, object]]:
    """Claims with the five passages they are checked against."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for name in ("squad-dev-v1.1.json.gz", "squadshifts-nyt-dev.json.gz"):
        raw = load_json(DATA / name)["data"]
        rows = [r for r in squad_questions(raw) if article_side(r[0]) == side]
        rng.shuffle(rows)
        taken = 0
        for _, article, paragraph, qa in rows:
            if taken >= limit // 2:
                break
            context = str(paragraph["context"])
            gold = qa["answers"][0]
            start, answer = int(gold["answer_start"]), str(gold["text"])
            golds = gold_sentences(context, [(start, start + len(answer))])
            other = swapped_answer(answer, context, rng)
            if len(golds) != 1 or other is None or context[start : start + len(answer)] != answer:
                continue
            title = title_text(article.get("title", ""))
            a, b = golds[0]
            others = [p["context"] for p in article["paragraphs"] if p is not paragraph]
            given = [context, *rng.sample(others, min(4, len(others)))]
            passages = [passage_of(title, text, n) for n, text in enumerate(given, start=1)]
            without = context[:a] + context[b:]
            question = str(qa["question"])
            changed = context[a:start] + other + context[start + len(answer) : b]
            out.append(
                {
                    "true": claim_of(question, answer),
                    "refuting_paraphrase": changed,
                    "refuting_claim": claim_of(question, other),
                    "passages": passages,
                    "without_gold": [passage_of(title, without, 1), *passages[1:]],
                }
            )
            taken += 1
    return out


def verdict(checker: SupportChecker, text: str) -> tuple[bool, bool]:
    """(kept, shown as contradicted) of one sentence citing passage [1]."""
    (support,) = checker.check([AnswerSentence(text, [1])])
    return support.supported, support.refuted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=("held-out", "calibration"), default="held-out")
    parser.add_argument("--claims", type=int, default=600)
    parser.add_argument("--vitaminc", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--file",
        default=VERIFIER_FILE,
        help="the model file in embeddings/trained/ (reader.onnx: the reader's own verify head)",
    )
    parser.add_argument(
        "--supports-at-least",
        type=float,
        default=check.SUPPORTS_AT_LEAST,
        help="check.py's support threshold for this run (an experiment; default: shipped)",
    )
    args = parser.parse_args()
    check.SUPPORTS_AT_LEAST = args.supports_at_least
    model = ReaderModel(file_name=args.file)
    embedder = load_embedder()
    figures = vitaminc(model, embedder, args.side, args.vitaminc, args.seed)
    print(f"VitaminC ({args.side} titles): {figures}")
    cases = claims(args.side, args.claims, args.seed)
    rows: dict[str, dict[str, list[bool]]] = {"verifier": {}, "cosine": {}}
    contradicted: dict[str, list[bool]] = {}  # the verifier's "✗ contradicted", by kind
    true_probabilities: list[float] = []
    for case in cases:
        passages = case["passages"]
        assert isinstance(passages, list)
        for name, verifier in (("verifier", model), ("cosine", None)):
            checker = SupportChecker(passages, embedder, verifier=verifier)
            bare = SupportChecker(case["without_gold"], embedder, verifier=verifier)  # type: ignore[arg-type]
            found = rows[name]
            for kind in ("true", "refuting_paraphrase", "refuting_claim"):
                supported, refuted = verdict(checker, str(case[kind]))
                found.setdefault(kind, []).append(supported)
                if name == "verifier":
                    contradicted.setdefault(kind, []).append(refuted)
            found.setdefault("unsupported", []).append(verdict(bare, str(case["true"]))[0])
        (support,) = SupportChecker(passages, embedder, verifier=model).check(
            [AnswerSentence(str(case["true"]), [1])]
        )
        true_probabilities.append(support.score)
    print(f"\n{len(cases)} claims ({args.side} articles of SQuAD dev and NYT dev)\n")
    print("| check | true kept | refuting paraphrase dropped | refuting claim dropped "
          "| unsupported dropped |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, found in rows.items():
        print(
            f"| {name} | {np.mean(found['true']):.3f} "
            f"| {1 - np.mean(found['refuting_paraphrase']):.3f} "
            f"| {1 - np.mean(found['refuting_claim']):.3f} "
            f"| {1 - np.mean(found['unsupported']):.3f} |"
        )
    print(
        "\nShown as contradicted (dropped with the quote that says otherwise): "
        + ", ".join(f"{kind} {np.mean(flags):.3f}" for kind, flags in contradicted.items())
    )
    ordered = sorted(true_probabilities)
    print(
        f"\nP(supports) keeping 95% of true claims: {ordered[int(0.05 * len(ordered))]:.3f} "
        f"(SUPPORTS_AT_LEAST is {check.SUPPORTS_AT_LEAST})"
    )
    # Time per answer of five sentences, as the stream checks them (one checker per answer).
    # Two answers: five true claims, each citing its own gold paragraph among the five given
    # (the verifier reads the cited quotes only, which support them), and the answer this
    # script timed until 2026-12-06: the five claims all citing the first claim's passages, so
    # four of them about nothing given (each read against every passage too).
    cited, mixed = [], []
    for b in range(0, len(cases) - 4, 5):
        group = cases[b : b + 5]
        golds = [c["passages"][0] for c in group]  # type: ignore[index]
        own = [passage_of(p.title, p.text, n) for n, p in enumerate(golds, start=1)]
        answers = (
            (cited, own, [AnswerSentence(str(c["true"]), [n]) for n, c in enumerate(group, 1)]),
            (mixed, group[0]["passages"], [AnswerSentence(str(c["true"]), [1]) for c in group]),
        )
        for times, passages, sentences in answers:
            assert isinstance(passages, list)
            started = time.perf_counter()
            SupportChecker(passages, embedder, verifier=model).check(sentences)
            times.append((time.perf_counter() - started) * 1000)
    print(
        f"check time per answer of 5 sentences, p50: {statistics.median(cited):.0f} ms (each "
        f"citing its passage), {statistics.median(mixed):.0f} ms (four about no passage given)"
    )


if __name__ == "__main__":
    main()
