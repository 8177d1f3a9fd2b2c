"""Follow-up questions: replay CoQA conversations through ``Assistant.ask(question, history=...)``.

    nice -n 10 python benchmarks/conversations.py [--stories 40] [--turns 6] [--half odd]
        [--no-reader]

``--stories`` CoQA dev stories (../shared/data/coqa-dev-half.json.gz) are indexed together, with
the default model and backend (onnx-int8), in a cached index under benchmarks/results (or
``--index``). The first ``--turns`` questions of each story are asked in order, each with the
earlier turns as history (the assistant's own answers, as the chat passes them), and again
alone. Printed:

- cited right story: the answer does not abstain and its top citation comes from the story the
  conversation is about (what the user sees: an abstention is a miss), with history and asked
  alone;
- top passage right: the top passage comes from the story, cited or not (retrieval alone);
- answer hit: a cited quote of the right story overlaps the turn's CoQA ``evidence`` span (one
  contains the other), with history;
- topic switch: after each conversation, the next story's first three questions are asked in
  turn with this conversation as history; each is right when it is answered from the next story
  (compare the first with turn 1, the same questions asked alone; the second and third lean on
  the first: "Where does it end?" after "Where is the Rhine?");
- the same split by turn (the first turn has no history, so both columns agree there).

``--lower`` asks every question in lower case, as many people type.

``--half odd`` takes the stories at odd positions of the file (held out: the figures we
report), ``calibration`` the stories the reader's conversation margins were chosen on (every
fifth even one, never trained on: ``qa.training.data.article_side``), ``even`` and ``all`` as
they say. ``--no-reader`` answers as before the reader (``Assistant.open(reader=False)``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Answer, Assistant, Turn  # noqa: E402

COQA = ROOT.parent / "shared" / "data" / "coqa-dev-half.json.gz"
CACHE = ROOT / "benchmarks" / "results" / "coqa-conversations"


@dataclass(frozen=True)
class Outcome:
    turn: int
    right_article: bool  # top passage (or citation) from the story, with history
    right_alone: bool
    hit: bool
    cited_right: bool  # answered, top citation from the story, with history
    cited_right_alone: bool


def load_stories(path: Path, count: int, half: str) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        stories: list[dict[str, Any]] = json.load(handle)["data"]
    if half == "calibration":
        from qa.training.data import article_side

        stories = [s for n, s in enumerate(stories) if article_side(n) == "calibration"]
    elif half != "all":
        stories = stories[half == "odd" :: 2]
    if count > len(stories):
        raise SystemExit(f"--stories {count}: the {half} half has only {len(stories)}")
    return stories[:count]


def title_of(story: dict[str, Any]) -> str:
    return f"{story['title']} ({story['id'][:8]})"


def build_index(stories: list[dict[str, Any]], index: Path) -> None:
    index.mkdir(parents=True, exist_ok=True)
    records = index.parent / f"{index.name}.jsonl"
    with records.open("w", encoding="utf-8") as handle:
        for story in stories:
            record = {"id": story["id"], "title": title_of(story), "text": story["story"]}
            handle.write(json.dumps(record) + "\n")
    with Assistant.open(index) as assistant:
        report = assistant.ingest([records], prune=True)
        if report.added or report.updated:
            print(f"built {index}: {report.summary()}", file=sys.stderr)


def cited_title(reply: Answer) -> str | None:
    """The story the user is shown an answer from (None when the answer abstains)."""
    return reply.citations[0].title if reply.found and reply.citations else None


def top_title(reply: Answer) -> str | None:
    if reply.citations:
        return reply.citations[0].title
    return reply.passages[0].title if reply.passages else None


SWITCH_TURNS = 3  # questions of the next story asked after a conversation
LOWER = False  # --lower: every question asked in lower case


def asked(turn: dict[str, Any]) -> str:
    question: str = turn["question"]
    return question.lower() if LOWER else question


def overlaps(quote: str, evidence: str) -> bool:
    quote, evidence = " ".join(quote.split()), " ".join(evidence.split())
    return bool(quote and evidence) and (quote in evidence or evidence in quote)


def replay(
    assistant: Assistant, story: dict[str, Any], turns: int, alone_too: bool = True
) -> tuple[list[Outcome], list[Turn]]:
    title = title_of(story)
    history: list[Turn] = []
    outcomes = []
    for number, turn in enumerate(story["turns"][:turns], start=1):
        reply = assistant.ask(asked(turn), history=history)
        alone = assistant.ask(asked(turn)) if alone_too or number == 1 else reply
        hit = any(c.title == title and overlaps(c.quote, turn["evidence"]) for c in reply.citations)
        outcomes.append(
            Outcome(
                number,
                top_title(reply) == title,
                top_title(alone) == title,
                hit,
                cited_title(reply) == title,
                cited_title(alone) == title,
            )
        )
        history.append(Turn.of(reply))
    return outcomes, history


def switch(assistant: Assistant, history: list[Turn], story: dict[str, Any]) -> list[bool]:
    """Are the next story's first three questions, asked in turn after ``history``, answered
    from it?"""
    history, right = list(history), []
    for turn in story["turns"][:SWITCH_TURNS]:
        reply = assistant.ask(asked(turn), history=history)
        right.append(cited_title(reply) == title_of(story))
        history.append(Turn.of(reply))
    return right


def share(values: list[bool]) -> str:
    return f"{sum(values) / max(len(values), 1):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=COQA)
    parser.add_argument("--stories", type=int, default=40)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--half", choices=("odd", "calibration", "even", "all"), default="odd")
    parser.add_argument("--no-reader", action="store_true", help="answer without the reader")
    parser.add_argument("--switch-margin", type=float, help="override SWITCH_MARGIN (tuning)")
    parser.add_argument(
        "--leaning-margin", type=float, help="override LEANING_SWITCH_MARGIN (tuning)"
    )
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--with-history-only", action="store_true", help="skip the alone run")
    parser.add_argument("--lower", action="store_true", help="ask in lower case")
    args = parser.parse_args()
    global LOWER
    LOWER = args.lower
    if args.stories < 30:
        parser.error(
            "--stories must be at least 30 (a conversation must find its story among many)"
        )
    from qa.pipeline import reader as reader_stage

    if args.switch_margin is not None:
        reader_stage.SWITCH_MARGIN = args.switch_margin
    if args.leaning_margin is not None:
        reader_stage.LEANING_SWITCH_MARGIN = args.leaning_margin
    stories = load_stories(args.data, args.stories, args.half)
    index = args.index or CACHE / f"{args.half}-{args.stories}"
    build_index(stories, index)
    outcomes: list[Outcome] = []
    switches: list[list[bool]] = []
    with Assistant.open(index, create=False, reader=not args.no_reader) as assistant:
        for number, story in enumerate(stories):
            done, history = replay(assistant, story, args.turns, not args.with_history_only)
            outcomes.extend(done)
            switches.append(switch(assistant, history, stories[(number + 1) % len(stories)]))
    reader = "without the reader" if args.no_reader else "with the reader"
    reader += ", in lower case" if args.lower else ""
    print(
        f"{len(stories)} stories ({args.half}), first {args.turns} turns, {reader}: "
        f"{len(outcomes)} turns"
    )
    print(f"cited right story with history: {share([o.cited_right for o in outcomes])}")
    print(f"cited right story asked alone: {share([o.cited_right_alone for o in outcomes])}")
    print(f"top passage right with history: {share([o.right_article for o in outcomes])}")
    print(f"top passage right asked alone: {share([o.right_alone for o in outcomes])}")
    print(f"answer hit with history: {share([o.hit for o in outcomes])}")
    for number in range(SWITCH_TURNS):
        right = share([s[number] for s in switches if len(s) > number])
        print(f"topic switch, question {number + 1} answered from the next story: {right}")
    print("turn  cited-with  cited-alone  top-with  top-alone  hit")
    for number in range(1, args.turns + 1):
        these = [o for o in outcomes if o.turn == number]
        print(
            f"{number:>4}  {share([o.cited_right for o in these])}       "
            f"{share([o.cited_right_alone for o in these])}        "
            f"{share([o.right_article for o in these])}     "
            f"{share([o.right_alone for o in these])}      {share([o.hit for o in these])}"
        )


if __name__ == "__main__":
    main()
