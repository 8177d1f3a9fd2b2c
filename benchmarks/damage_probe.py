"""Damage probe: flip bits in every file of an index, then ask, check and repair.

    python benchmarks/damage_probe.py [--seeds 10] [--bits 1] [--keep-mtime] [--model hash]

Builds an index of the demo corpus (corpus/articles), answers its questions (corpus/questions.json)
as the baseline, then for every file of the index folder and every seed: copies the index, flips
``--bits`` random bits of that file (``--keep-mtime`` puts the file's modification time back, as
a disk error would leave it), opens it, asks every question, runs ``qa check`` and, when it
finds problems, ``qa check --repair`` and the questions again. Each case ends in one of:

- ``correct``: every answer is the baseline's;
- ``error``: a one-line error (a ``QAError``) instead of answers;
- ``flagged``: some answer differs, and ``qa check`` reports a problem (so the user is told);
- ``WRONG``: some answer differs (or quotes words that are not in its source file) while
  ``qa check`` says ok; ``TRACEBACK``: an exception that is not a one-line error.

The probe passes when no case is WRONG or TRACEBACK (exit status 1 otherwise). Two more columns:
in how many cases ``qa check`` reported a problem (a correct answer included: the damage was
found before it mattered), and how many flagged or error cases ``--repair`` brought back to the
baseline's quotes (the same sentences, verbatim; re-embedding may swap two close ones).
tests/test_damage.py runs it (slow-marked) with the hash model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT

CORPUS = ROOT / "corpus" / "articles"
QUESTIONS = ROOT / "corpus" / "questions.json"
OUTCOMES = ("correct", "error", "flagged", "WRONG", "TRACEBACK")
# Files of an index folder that are not the index (the lock, saved conversations).
NOT_INDEX = {"write.lock", "conversations.sqlite"}

Answers = list[tuple[object, ...]]


@dataclass
class Case:
    file: str
    seed: int
    outcome: str = "correct"
    detail: str = ""
    repaired: bool | None = None  # None: no repair was needed
    reported: bool = False  # qa check reported a problem (or could not open the index)


@dataclass
class Probe:
    cases: list[Case] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(case.outcome in ("WRONG", "TRACEBACK") for case in self.cases)

    def table(self) -> str:
        files = sorted({case.file for case in self.cases})
        lines = [
            "| file | " + " | ".join(OUTCOMES) + " | qa check reports it | repaired |",
            "|---" * (len(OUTCOMES) + 3) + "|",
        ]
        for name in files:
            mine = [case for case in self.cases if case.file == name]
            counts = Counter(case.outcome for case in mine)
            needed = [case for case in mine if case.repaired is not None]
            fixed = sum(1 for case in needed if case.repaired)
            lines.append(
                f"| {name} | "
                + " | ".join(str(counts[o]) for o in OUTCOMES)
                + f" | {sum(case.reported for case in mine)} | {fixed}/{len(needed)} |"
            )
        return "\n".join(lines)


def build(folder: Path, embedder: object) -> None:
    from qa import Assistant

    with Assistant.open(folder, embedder=embedder) as assistant:  # type: ignore[arg-type]
        report = assistant.ingest([CORPUS])
        assert report.ok, report.failed


def answers(folder: Path, embedder: object, questions: list[str]) -> Answers:
    """Each question's answer as (text, cited article, start, end, quote); raises what ask does."""
    from qa import Assistant

    found: Answers = []
    with Assistant.open(folder, embedder=embedder, create=False) as assistant:  # type: ignore[arg-type]
        for question in questions:
            reply = assistant.ask(question)
            cited = tuple((c.article_id, c.start, c.end, c.quote) for c in reply.citations)
            found.append((reply.text, cited))
    return found


def verbatim(found: Answers, sources: dict[str, str]) -> bool:
    """Whether every quote is the text of its source file at its offsets."""
    for _, cited in found:
        for article_id, start, end, quote in cited:  # type: ignore[misc]
            if sources.get(article_id, "")[start:end] != quote:
                return False
    return True


def same_quotes(found: Answers, expected: Answers) -> bool:
    """Whether each question quotes the same spans of the same articles, in any order."""
    return [sorted(cited) for _, cited in found] == [sorted(cited) for _, cited in expected]  # type: ignore[type-var, call-overload]


def flip(path: Path, bits: int, rng: random.Random, keep_mtime: bool) -> str:
    data = bytearray(path.read_bytes())
    info = path.stat()
    where = []
    for _ in range(bits):
        byte = rng.randrange(len(data))
        data[byte] ^= 1 << rng.randrange(8)
        where.append(byte)
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    return f"bytes {', '.join(map(str, sorted(where)))} of {len(data)}"


def run_case(
    pristine: Path, work: Path, name: str, seed: int, options: argparse.Namespace,
    embedder: object, questions: list[str], baseline: Answers, sources: dict[str, str],
) -> Case:  # fmt: skip
    from qa import QAError

    case = Case(name, seed)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)
    case.detail = flip(
        work / name, options.bits, random.Random(f"{name}:{seed}"), options.keep_mtime
    )

    def attempt(step: Callable[[], object]) -> tuple[str, object]:
        try:
            return "value", step()
        except QAError as error:
            return "error", str(error)
        except Exception as error:  # what the CLI would show as a traceback
            return "traceback", f"{type(error).__name__}: {error}"

    kind, got = attempt(lambda: answers(work, embedder, questions))
    if kind == "traceback":
        case.outcome, case.detail = "TRACEBACK", f"{case.detail}; ask: {got}"
        return case
    if kind == "error":
        case.outcome = "error"
    elif got != baseline or not verbatim(got, sources):  # type: ignore[arg-type]
        case.outcome = "flagged"  # until qa check says otherwise
    checked_kind, report = attempt(lambda: _check(work, embedder))
    if checked_kind == "traceback":
        case.outcome, case.detail = "TRACEBACK", f"{case.detail}; check: {report}"
        return case
    check_ok = checked_kind == "value" and report.ok  # type: ignore[union-attr]
    case.reported = not check_ok
    if checked_kind == "error":
        case.detail += f"; check: {str(report)[:120]}"
    elif not check_ok:
        case.detail += f"; check: {report.problems[0][:120]}"  # type: ignore[union-attr]
    if case.outcome == "flagged" and check_ok:
        case.outcome = "WRONG"
        case.detail += "; answers changed and qa check says ok"
        return case
    if case.outcome == "correct" or check_ok:
        return case
    repair_kind, repaired = attempt(lambda: _repair(work, embedder))
    if repair_kind == "traceback":
        case.outcome, case.detail = "TRACEBACK", f"{case.detail}; repair: {repaired}"
        return case
    again_kind, again = attempt(lambda: answers(work, embedder, questions))
    if again_kind == "traceback":
        case.outcome, case.detail = "TRACEBACK", f"{case.detail}; ask after repair: {again}"
        return case
    # Re-embedding in other batches can move a score in its last digits, and so the order of
    # two quotes: repaired means the same sentences quoted, verbatim.
    case.repaired = again_kind == "value" and same_quotes(again, baseline)  # type: ignore[arg-type]
    # A repair that says what it could not fix ("ingest your articles again") leaves the user
    # told, as a check that reports the damage does; one that says all is well must be right.
    told = repair_kind == "error" or not repaired.ok  # type: ignore[union-attr]
    if again_kind == "value" and not verbatim(again, sources) and not told:  # type: ignore[arg-type]
        case.outcome, case.detail = "WRONG", f"{case.detail}; a quote after repair is not verbatim"
    return case


def _check(folder: Path, embedder: object) -> object:
    from qa import Assistant

    with Assistant.open(folder, embedder=embedder, create=False) as assistant:  # type: ignore[arg-type]
        return assistant.check()


def _repair(folder: Path, embedder: object) -> object:
    from qa import Assistant

    with Assistant.open(folder, embedder=embedder, create=False) as assistant:  # type: ignore[arg-type]
        return assistant.repair()


def probe(
    seeds: int = 10,
    bits: int = 1,
    keep_mtime: bool = False,
    model: str | None = None,
    question_count: int = 12,
    log: Callable[[str], None] = print,
) -> Probe:
    from qa.config import load_model
    from qa.pipeline.corpus import read_file

    options = argparse.Namespace(bits=bits, keep_mtime=keep_mtime)
    embedder = load_model(model, None)
    every = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    questions = [item["question"] for item in every][::3][:question_count]
    sources = {
        article.id: article.text
        for path in CORPUS.glob("*.md")
        for article in read_file(path).articles
    }
    # The checksum warnings of a damaged file are expected here; keep the output to the table.
    logging.getLogger("article_qa").setLevel(logging.ERROR)
    result = Probe()
    with tempfile.TemporaryDirectory(prefix="qa-damage-") as temp:
        pristine, work = Path(temp) / "pristine", Path(temp) / "work"
        build(pristine, embedder)
        baseline = answers(pristine, embedder, questions)
        assert verbatim(baseline, sources), "the undamaged index quotes its sources verbatim"
        files = sorted(
            str(p.relative_to(pristine))
            for p in pristine.rglob("*")
            if p.is_file() and p.name not in NOT_INDEX and not p.name.endswith(("-wal", "-shm"))
        )
        for name in files:
            for seed in range(seeds):
                case = run_case(
                    pristine, work, name, seed, options, embedder, questions, baseline, sources
                )
                result.cases.append(case)
                if case.outcome in ("WRONG", "TRACEBACK"):
                    log(f"{case.outcome}: {name} seed {seed}: {case.detail}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--bits", type=int, default=1, help="bits flipped per file and seed")
    parser.add_argument("--keep-mtime", action="store_true", help="put the file's mtime back")
    parser.add_argument("--model", help="model spec (default: the bundled model; hash: fast)")
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--verbose", action="store_true", help="print each case that changed")
    args = parser.parse_args()
    result = probe(args.seeds, args.bits, args.keep_mtime, args.model, args.questions)
    if args.verbose:
        for case in result.cases:
            if case.outcome != "correct" or "check:" in case.detail:
                print(f"{case.file} seed {case.seed}: {case.outcome}; {case.detail}")
    print(
        f"{len(result.cases)} cases: {args.seeds} seeds x {args.bits} flipped bits"
        f"{' (mtime kept)' if args.keep_mtime else ''}, {args.questions} questions, "
        f"model {args.model or 'default'}\n"
    )
    print(result.table())
    print("\npass: no wrong answer with qa check ok, no traceback" if result.ok else "\nFAIL")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
