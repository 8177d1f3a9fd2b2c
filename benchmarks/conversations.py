"""Follow-up questions: replay CoQA conversations through ``Assistant.ask(question, history=...)``.

    nice -n 10 python benchmarks/conversations.py [--stories 40] [--turns 6] [--half even|odd|all]

``--stories`` CoQA dev stories (../shared/data/coqa-dev-half.json.gz) are indexed together, with
the default model and backend (onnx-int8), in a cached index under benchmarks/results (or
``--index``). The first ``--turns`` questions of each story are asked in order, each with the
earlier turns as history (the assistant's own answers, as the chat passes them), and again
alone. Printed:

- right article: the top citation (or the top passage when the answer abstains) comes from the
  story the conversation is about, with history and without;
- answer hit: a cited quote of the right story overlaps the turn's CoQA ``evidence`` span (one
  contains the other), with history;
- topic switch: after each conversation, the next story's first question is asked with this
  conversation as history; right when its top citation comes from the next story (compare with
  turn 1, the same questions asked alone);
- the same split by turn (the first turn has no history, so both columns agree there).

``--half even`` takes the stories at even positions of the file (the tune half), ``odd`` the
others (the confirm half); ``all`` takes them in file order.
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
from qa.pipeline.conversation import turn_from  # noqa: E402

COQA = ROOT.parent / "shared" / "data" / "coqa-dev-half.json.gz"
CACHE = ROOT / "benchmarks" / "results" / "coqa-conversations"


@dataclass(frozen=True)
class Outcome:
    turn: int
    right_article: bool
    right_alone: bool
    hit: bool


def load_stories(path: Path, count: int, half: str) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        stories: list[dict[str, Any]] = json.load(handle)["data"]
    if half != "all":
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


def top_title(reply: Answer) -> str | None:
    if reply.citations:
        return reply.citations[0].title
    return reply.passages[0].title if reply.passages else None


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
        reply = assistant.ask(turn["question"], history=history)
        alone = assistant.ask(turn["question"]) if alone_too or number == 1 else reply
        hit = any(c.title == title and overlaps(c.quote, turn["evidence"]) for c in reply.citations)
        outcomes.append(Outcome(number, top_title(reply) == title, top_title(alone) == title, hit))
        history.append(turn_from(reply))
    return outcomes, history


def switch(assistant: Assistant, history: list[Turn], story: dict[str, Any]) -> bool:
    """Does the next story's first question, asked after ``history``, leave the old topic?"""
    return top_title(assistant.ask(story["turns"][0]["question"], history=history)) == title_of(
        story
    )


def share(values: list[bool]) -> str:
    return f"{sum(values) / max(len(values), 1):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=COQA)
    parser.add_argument("--stories", type=int, default=40)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--half", choices=("even", "odd", "all"), default="all")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--with-history-only", action="store_true", help="skip the alone run")
    args = parser.parse_args()
    if args.stories < 40:
        parser.error(
            "--stories must be at least 40 (a conversation must find its story among many)"
        )
    stories = load_stories(args.data, args.stories, args.half)
    index = args.index or CACHE / f"{args.half}-{args.stories}"
    build_index(stories, index)
    outcomes: list[Outcome] = []
    switches: list[bool] = []
    with Assistant.open(index, create=False) as assistant:
        for number, story in enumerate(stories):
            done, history = replay(assistant, story, args.turns, not args.with_history_only)
            outcomes.extend(done)
            switches.append(switch(assistant, history, stories[(number + 1) % len(stories)]))
    print(f"{len(stories)} stories ({args.half}), first {args.turns} turns: {len(outcomes)} turns")
    print(f"right article with history: {share([o.right_article for o in outcomes])}")
    print(f"right article without history: {share([o.right_alone for o in outcomes])}")
    print(f"answer hit with history: {share([o.hit for o in outcomes])}")
    print(f"topic switch, right article: {share(switches)} (turn 1 alone: see below)")
    print("turn  with  without  hit")
    for number in range(1, args.turns + 1):
        these = [o for o in outcomes if o.turn == number]
        print(
            f"{number:>4}  {share([o.right_article for o in these])}  "
            f"{share([o.right_alone for o in these])}  {share([o.hit for o in these])}"
        )


if __name__ == "__main__":
    main()
