"""Retrain the shipped reader model, in one command (seeded, resumable):

    nice -n 10 python -m qa.training --data ../shared/data

1. mine: reader groups and verifier pairs from the even halves (``qa.training.data``), cached
   in ``--work``/pairs.jsonl.gz;
2. train: ``embeddings.reader_training.train`` (checkpoints in ``--work``; run the same command
   again after an interruption and it continues);
3. export: int8 ONNX and the tokenizer into ``--out`` (default: the package's
   ``embeddings/trained``), with the agreement of int8 against torch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from embeddings.reader import MODEL_FILE, TRAINED_DIR, ReaderModel, file_sha256
from embeddings.reader_training import Example, TrainSettings, export, train
from embeddings.sentence import default_model_path
from qa.errors import QAError
from qa.training import data, mining

# Questions per source for the reader: 41,704 pairs (1 answer + 3 hard negatives a question),
# read twice (READER_EPOCHS), about 50 minutes on 2 quiet cores (27-28 pairs/s). The reader
# trains its answer head alone: the verify head of reader.onnx is not trained, verifier.onnx
# checks generated sentences (its pairs, below, took a sixth of the reader's time before).
BUDGET = {
    "squad": 2400,
    "nyt": 2100,
    "amazon": 2000,
    "disfl-qa": 2000,
    "coqa": 2000,
}
# Two passes against one (the reader shipped before 2026-12-05, which also read the verify pairs,
# in 52.5 minutes): held-out correct abstention .843 / .772 / .113 against .791 / .752 / .104
# (SQuAD / NYT / Amazon), answer hit .841 / .713 / .355 against .846 / .701 / .346
# (`qa eval ... --half odd --out-of-corpus --limit 1500 --seed 7`, both with UNMENTIONED_SURE_BELOW
# .2; embeddings/trained/README.md). Three passes did worse on the calibration articles (score
# .6673 against .6718, correct abstention .883 / .764 / .150 against .949 / .821 / .137;
# 2026-12-06). A span loss beside it (--span-weight .5) chose sentences better (score .6817) but
# lost correct abstention (.827 / .671 / .099); with negatives pointing at [CLS]
# (--span-no-answer) it lost less (score .6792, .939 / .779 / .124) and the follow-ups lost more
# (.400 against .464; embeddings/trained/README.md). Twice the questions read once
# (--questions 2 --epochs 1, 2026-12-07): score .6718 against .6712, NYT's correct abstention
# .679 against .807.
READER_EPOCHS = 2


# The verifier (issue 24) is trained apart, by the same script (--model verifier): VitaminC and
# claims from the QA files with their paraphrases, ~32k pairs read three times (--epochs 3:
# VitaminC accuracy .650 -> .697 against one pass), about 60 minutes on 2 cores.
VERIFIER_BUDGET = {
    "vitaminc": 22000,  # all 21,670 pairs of the training titles
    "squad-claims": 5000,
    "nyt-claims": 3000,
    "amazon-claims": 3000,
}


def cached_pairs(work: Path, how: dict[str, Any]) -> list[data.Pair] | None:
    """The pairs cached in ``work`` (pairs.jsonl.gz), if any; refused when its mining.json says
    they were made another way than ``how`` (a cache from before the record is taken)."""
    cached, record = work / "pairs.jsonl.gz", work / "mining.json"
    if not cached.exists():
        return None
    if record.exists() and json.loads(record.read_text()) != how:
        raise QAError(
            f"The pairs in {cached} were mined another way ({record.read_text().strip()}), "
            f"not as asked ({json.dumps(how)}). Give another --work folder, or "
            f"delete {cached} to mine them again."
        )
    return data.read_pairs(cached)


def keep_pairs(pairs: list[data.Pair], work: Path, how: dict[str, Any]) -> None:
    data.write_pairs(pairs, work / "pairs.jsonl.gz")
    (work / "mining.json").write_text(json.dumps(how) + "\n", encoding="utf-8")


def mine_verifier(
    data_dir: Path, work: Path, seed: int, swap_refutes: bool = False
) -> list[data.Pair]:
    """The verifier's pairs, cached in ``work`` (pairs.jsonl.gz, with mining.json saying how): a
    cache made another way is refused, not trained on."""
    how = {"seed": seed, "swap_refutes": swap_refutes}
    if (cached := cached_pairs(work, how)) is not None:
        return cached
    rng = random.Random(seed)
    train_dir = data_dir / "train"
    pairs = data.vitaminc_pairs(
        train_dir / "vitaminc.jsonl.gz", VERIFIER_BUDGET["vitaminc"], rng, swap_refutes
    )
    for path, name in (
        (data_dir / "squad-dev-v1.1.json.gz", "squad-claims"),
        (data_dir / "squadshifts-nyt-dev.json.gz", "nyt-claims"),
        (train_dir / "squadshifts-amazon.json.gz", "amazon-claims"),
    ):
        raw = data.load_json(path)["data"]
        pairs += data.verifier_pairs_from_squad(
            raw, name, VERIFIER_BUDGET[name], rng, paraphrases=True
        )
    keep_pairs(pairs, work, how)
    return pairs


def mine(data_dir: Path, work: Path, how: mining.Mining) -> list[data.Pair]:
    """The reader's groups, mined as ``how`` says, cached in ``work`` (pairs.jsonl.gz, with
    mining.json saying how): a cache mined another way is refused, not trained on."""
    if (cached := cached_pairs(work, how.described())) is not None:
        return cached
    train_dir = data_dir / "train"
    squad = data_dir / "squad-dev-v1.1.json.gz"
    nyt = data_dir / "squadshifts-nyt-dev.json.gz"
    pairs: list[data.Pair] = []
    amazon = train_dir / "squadshifts-amazon.json.gz"
    budget = {name: round(limit * how.questions) for name, limit in BUDGET.items()}
    for path, name in ((squad, "squad"), (nyt, "nyt"), (amazon, "amazon")):
        pairs += mining.squad_groups(path, name, work, budget[name], how)
    disfl = train_dir / "disfl-qa.jsonl.gz"
    pairs += mining.disfl_groups(disfl, squad, work, budget["disfl-qa"], how)
    pairs += mining.coqa_groups(data_dir / "coqa-dev-half.json.gz", work, budget["coqa"], how)
    keep_pairs(pairs, work, how.described())
    return pairs


def _positive(text: str) -> int:
    """An --epochs value: a whole number of passes, at least one."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of passes, 1 or more: {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qa.training", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--model",
        choices=("reader", "verifier"),
        default="reader",
        help="reader: the answer head, reader.onnx; verifier: the verify head, verifier.onnx",
    )
    parser.add_argument("--work", type=Path, help="default: reader-work or verifier-work")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[2] / "embeddings" / "trained"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--epochs",
        type=_positive,
        default=None,
        help=f"passes over the pairs (default: reader {READER_EPOCHS}, verifier 3)",
    )
    parser.add_argument(
        "--train-word-embeddings",
        action="store_true",
        help="train the word embeddings too (frozen by default)",
    )
    parser.add_argument(
        "--fresh-negatives",
        type=_positive,
        default=1,
        help="reader: mine this many times the negatives and read a different share of them "
        "in each pass (default 1: the same negatives every pass)",
    )
    parser.add_argument(
        "--span-weight",
        type=float,
        default=0.0,
        help="reader: weight of the training-only loss that points at the gold answer's tokens "
        "in each positive sentence (default 0: off)",
    )
    parser.add_argument(
        "--span-no-answer",
        action="store_true",
        help="reader, with --span-weight: a negative's span points at [CLS] (no answer here)",
    )
    parser.add_argument(
        "--listwise-weight",
        type=float,
        default=1.0,
        help="reader: weight of the softmax over each question's sentences, beside the "
        "per-sentence cross-entropy (default 1)",
    )
    parser.add_argument(
        "--contrast-weight",
        type=float,
        default=0.0,
        help="verifier: weight of the loss that ranks a claim's supporting evidence above its "
        "refuting one, and the other way round (default 0: off)",
    )
    parser.add_argument(
        "--swap-refutes",
        action="store_true",
        help="verifier: also read each refuting VitaminC pair the other way round (its "
        "evidence as the claim), still refutes (tried 2026-12-07: check.py's VitaminC accuracy "
        ".761 against .759 on the calibration titles, embeddings/trained/README.md)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=TrainSettings.learning_rate,
        help=f"AdamW's peak learning rate for the network's body (default "
        f"{TrainSettings.learning_rate:g}; the heads' is {TrainSettings.head_learning_rate:g})",
    )
    parser.add_argument(
        "--mine-with-reader",
        type=Path,
        nargs="?",
        const=TRAINED_DIR,
        default=None,
        metavar="DIR",
        help="reader: keep the negatives the reader in DIR (default: the shipped one) scores "
        "highest among the sentences it would read, not those the cheap score does (tried "
        "2026-12-07: calibration score .6575 against .6710, embeddings/trained/README.md)",
    )
    parser.add_argument(
        "--questions",
        type=float,
        default=1.0,
        help="reader: mine this many times each source's question budget, where the training "
        "articles have them (default 1: 41,704 pairs; 2 with --epochs 1 reads about as many "
        "pairs in all, each question once)",
    )
    parser.add_argument(
        "--layers",
        type=_positive,
        default=None,
        help="keep this many of the bundled model's 6 layers, evenly spaced (default: "
        "all); 3 read a pair in about half the time (tried 2026-12-07 with --teacher: "
        "calibration score .645 against .672, and .646 with --init too; "
        "embeddings/trained/README.md)",
    )
    parser.add_argument(
        "--teacher",
        type=Path,
        nargs="?",
        const=TRAINED_DIR,
        default=None,
        metavar="DIR",
        help="reader: also learn the answer logits of the reader in DIR (default: the shipped "
        "one), read once for every training pair and cached in the work folder",
    )
    parser.add_argument(
        "--distill-weight",
        type=float,
        default=1.0,
        help="with --teacher: weight of the squared difference from the teacher's logit "
        "(default 1)",
    )
    parser.add_argument(
        "--init",
        type=Path,
        nargs="?",
        const=TRAINED_DIR,
        default=None,
        metavar="DIR",
        help=f"start from the reader in DIR (default: the shipped one; its {MODEL_FILE}'s int8 "
        "weights read back), its kept layers with --layers, instead of the bundled bi-encoder",
    )
    parser.add_argument("--max-steps", type=int, default=None, help="stop early (tests, probes)")
    parser.add_argument("--mine-only", action="store_true")
    return parser


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a value no run could use stops here, before any mining."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.questions <= 0:
        parser.error("--questions must be above 0 (1 is the default budget)")
    if args.listwise_weight < 0:
        parser.error("--listwise-weight must be 0 or more")
    if not 0 < args.learning_rate < 1:
        parser.error("--learning-rate must be above 0 and below 1 (5e-5 is the default)")
    if args.mine_with_reader is not None and not (args.mine_with_reader / MODEL_FILE).is_file():
        parser.error(f"--mine-with-reader: {args.mine_with_reader} holds no {MODEL_FILE}")
    if args.teacher is not None and not (args.teacher / MODEL_FILE).is_file():
        parser.error(f"--teacher: {args.teacher} holds no {MODEL_FILE}")
    if args.teacher is not None and args.model != "reader":
        parser.error("--teacher teaches the reader: leave it out with --model verifier")
    if args.init is not None and not (args.init / MODEL_FILE).is_file():
        parser.error(f"--init: {args.init} holds no {MODEL_FILE}")
    if args.swap_refutes and args.model != "verifier":
        parser.error("--swap-refutes is for --model verifier")
    if args.distill_weight < 0:
        parser.error("--distill-weight must be 0 or more")
    if args.layers is not None and args.layers > (total := base_layers()):
        parser.error(f"--layers: the bundled model has {total} layers, {args.layers} asked")
    if args.span_no_answer and args.span_weight <= 0:
        parser.error("--span-no-answer marks negatives for the span loss: give --span-weight too")
    return args


def settings_of(args: argparse.Namespace) -> TrainSettings:
    """The run's settings: options that do not apply to the model trained keep their defaults."""
    epochs = args.epochs
    if epochs is None:
        epochs = 3 if args.model == "verifier" else READER_EPOCHS
    return TrainSettings(
        seed=args.seed,
        epochs=epochs,
        train_word_embeddings=args.train_word_embeddings,
        fresh_negatives=args.fresh_negatives if args.model == "reader" else 1,
        span_weight=args.span_weight if args.model == "reader" else 0.0,
        span_no_answer=args.span_no_answer,
        listwise_weight=args.listwise_weight if args.model == "reader" else 1.0,
        contrast_weight=args.contrast_weight if args.model == "verifier" else 0.0,
        learning_rate=args.learning_rate,
        layers=args.layers or 0,
        distill_weight=args.distill_weight if args.teacher is not None else 0.0,
        init_sha256=file_sha256(args.init / MODEL_FILE) if args.init is not None else "",
    )


def base_layers() -> int:
    """How many layers the bundled model has (its config.json)."""
    config = json.loads((default_model_path() / "config.json").read_text(encoding="utf-8"))
    return int(config["num_hidden_layers"])


def teacher_logits(pairs: list[data.Pair], teacher: Path, work: Path) -> list[float]:
    """The teacher reader's answer logit for each pair (NaN for verifier pairs), read once and
    cached in ``work``/teacher.json with the teacher file's sha256 and a digest of the pairs
    (another teacher, or other pairs, are read again)."""
    model = ReaderModel(teacher)
    sha = file_sha256(model.model_file)
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(f"{pair.task}\0{pair.a}\0{pair.b}\0".encode())
    cached = work / "teacher.json"
    if cached.exists():
        stored = json.loads(cached.read_text(encoding="utf-8"))
        if stored.get("sha256") == sha and stored.get("pairs") == digest.hexdigest():
            return [float("nan") if v is None else float(v) for v in stored["logits"]]
    rows = [n for n, p in enumerate(pairs) if p.task == "reader"]
    logits: list[float | None] = [None] * len(pairs)
    step = 256
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        got = model.answer_logits([pairs[n].a for n in part], [pairs[n].b for n in part])
        for n, value in zip(part, got, strict=True):
            logits[n] = float(value)
        if start % (step * 20) == 0:
            print(f"teacher: {start + len(part)}/{len(rows)} pairs read", file=sys.stderr)
    record = {"sha256": sha, "pairs": digest.hexdigest(), "logits": logits}
    cached.write_text(json.dumps(record), encoding="utf-8")
    return [float("nan") if v is None else v for v in logits]


def main() -> None:
    args = parse()
    started = time.perf_counter()
    work = args.work or Path(f"{args.model}-work")
    if args.model == "verifier":
        try:
            pairs = mine_verifier(args.data, work, args.seed, args.swap_refutes)
        except QAError as error:
            sys.exit(str(error))
    else:
        how = mining.Mining(
            args.seed, mining.NEGATIVES * args.fresh_negatives, questions=args.questions
        )
        if args.mine_with_reader is not None:
            model = ReaderModel(args.mine_with_reader)
            tag = file_sha256(model.model_file)[:12]
            how = replace(how, rescore=mining.by_reader(model), order=f"reader {tag}")
        try:
            pairs = mine(args.data, work, how)
        except QAError as error:
            sys.exit(str(error))
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[f"{pair.task}:{pair.source}"] = counts.get(f"{pair.task}:{pair.source}", 0) + 1
    print(json.dumps(counts, indent=1), file=sys.stderr)
    if args.mine_only:
        return
    answers = data.gold_answers(args.data) if args.span_weight > 0 else {}
    taught = (
        teacher_logits(pairs, args.teacher, work)
        if args.teacher is not None
        else [float("nan")] * len(pairs)
    )
    examples = [
        Example(
            p.task,
            p.group,
            p.a,
            p.b,
            p.label,
            data.answer_in(p.b, answers.get(p.group, [])) if p.label == 1 else "",
            teacher,
        )
        for p, teacher in zip(pairs, taught, strict=True)
    ]
    if answers:
        found = sum(1 for e in examples if e.answer)
        positives = sum(1 for e in examples if e.task == "reader" and e.label == 1)
        print(
            f"span loss: the answer is found in {found} of {positives} positives", file=sys.stderr
        )
    settings = settings_of(args)
    start = args.init / MODEL_FILE if args.init is not None else None
    weights = train(examples, default_model_path(), work, settings, args.max_steps, start=start)
    assert weights is not None
    report = export(
        default_model_path(), weights, args.out, f"{args.model}.onnx", layers=settings.layers
    )
    report["minutes"] = round((time.perf_counter() - started) / 60, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
