"""Chats about one long article: follow-ups that say "he" or "it" for the article's subject.

CoQA's stories are short, so its follow-ups (benchmarks/conversations.py) are answered from one
or two passages; a chat about a Wikipedia page or a news report reads one of dozens. This script
makes such chats from SQuAD dev and NYT dev, indexed as `qa eval FILE --out-of-corpus --seed 7`
indexes them (questions of indexed articles of the chosen half):

- an article's subject is the name (one to three capitalised words, past a question's first
  word) that most of its questions name, at least ``MIN_NAMING`` of them ("Tesla", "Broncos");
- the chat opens with the first question naming it, as written; up to ``--turns`` - 1
  follow-ups are the next ones naming it, the name replaced by the pronoun the article uses most
  for it ("Where did Tesla die?" -> "Where did he die?", "Tesla's" -> "his"; "he" for "Mr.
  Kohlberg", "she" for "Ms." and "Mrs.", else the pronoun that most often opens the sentence
  after one naming it, "it" when none does);
- each follow-up is asked with the chat so far as history (the assistant's own answers, as the
  chat passes them), and its original question asked alone (with the name: what it could be).

Printed per file: follow-ups, their answer hit with history (the answer does not abstain and
holds a gold answer), the share cited from the chat's article, the share quoting a sentence the
answer before it quoted (a chat that repeats itself), and the answer hit of the original
questions asked alone.

    python benchmarks/article_chats.py --half even     # where changes are judged
    python benchmarks/article_chats.py --half odd      # held out

SQuAD's questions are written paragraph by paragraph, so in file order a follow-up is often
answered by the sentence just quoted; ``--apart`` takes follow-ups whose answers lie at least
``APART_CHARS`` apart (the chat moves on within the article: born, died, invented).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QA_FILES
from qa import Answer, Turn
from qa.eval.evaluation import Question
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed
from qa.lexical import words

FILES = ("squad", "nyt")  # Amazon's reviews have no subject that questions name
MIN_NAMING = 3  # an article's subject is named by at least this many of its questions
APART_CHARS = 2_000  # --apart: about two passages of 200 tokens
NAME = re.compile(
    r"(?<!^)(?<![.?!] )\b("
    r"(?:(?:Mr|Ms|Mrs|Dr)\.\s+)?[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+){0,2}(?:\s+\d+)?"
    r")\b(?!-)"
)
TITLED = {"Mr.": "he", "Ms.": "she", "Mrs.": "she"}
QUESTION_WORDS = frozenset("What Who When Where Why How Which Whose Whom In On At".split())
PRONOUNS = {  # subject, object, possessive
    "he": ("he", "him", "his"),
    "she": ("she", "her", "her"),
    "it": ("it", "it", "its"),
    "they": ("they", "them", "their"),
}
# After these the name is the clause's subject ("When did Tesla die?", "Where was Tesla born?").
SUBJECT_AFTER = frozenset(
    "did does do was is were are has had have could would will can should".split()
)


def names(question: str) -> list[str]:
    return [m.group(1) for m in NAME.finditer(question) if m.group(1) not in QUESTION_WORDS]


def subject_of(questions: list[Question]) -> str | None:
    counts = Counter(name for q in questions for name in set(names(q.question)))
    if not counts:
        return None
    name, count = counts.most_common(1)[0]
    return name if count >= MIN_NAMING else None


def pronoun_for(name: str, text: str) -> str:
    """ "he" for "Mr. Kohlberg"; else the pronoun that most often opens the sentence after one
    naming ``name`` in the article ("Tesla was born ... He was ..."), "it" when none does."""
    title = name.split()[0]
    if title in TITLED:
        return TITLED[title]
    sentences = re.split(r"(?<=[.!?])\s+", text)
    after = Counter(
        words(following)[0]
        for sentence, following in itertools.pairwise(sentences)
        if name in sentence and words(following)
    )
    counts = {p: sum(after[w] for w in (p,)) for p in PRONOUNS}
    best = max(counts, key=lambda p: counts[p])
    return best if counts[best] else "it"


def with_pronoun(question: str, name: str, pronoun: str) -> str | None:
    """``question`` with its mention of ``name`` replaced; None when it has none."""
    own, objective, possessive = PRONOUNS[pronoun]
    pattern = re.compile(rf"(?<![-\w])(?:[Tt]he\s+)?{re.escape(name)}(?P<s>'s|’s)?(?![-\w])")
    match = pattern.search(question)
    if match is None:
        return None
    before = question[: match.start()].split()
    if match.group("s"):
        said = possessive
    elif not before or before[-1].lower() in SUBJECT_AFTER or before[-1] in QUESTION_WORDS:
        said = own
    else:
        said = objective
    return question[: match.start()] + said + question[match.end() :]


def apart(questions: list[Question], turns: int) -> list[Question]:
    """Up to ``turns`` of ``questions`` in order, each answered at least ``APART_CHARS`` from
    the one before (SQuAD's questions follow their paragraphs, so in file order a follow-up
    is often answered in the passage just quoted)."""
    chosen: list[Question] = []
    for q in questions:
        if not q.spans:
            continue
        if not chosen or abs(q.spans[0][0] - chosen[-1].spans[0][0]) >= APART_CHARS:
            chosen.append(q)
        if len(chosen) == turns:
            break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--show", action="store_true", help="print every follow-up")
    parser.add_argument(
        "--apart",
        action="store_true",
        help=f"each follow-up's answer at least {APART_CHARS:,} characters from the one before",
    )
    args = parser.parse_args()
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    for name in FILES:
        found = indexed(QA_FILES[name], None, run)
        by_article: dict[str, list[Question]] = {}
        for q in found.inside:
            if q.article_id is not None:
                by_article.setdefault(q.article_id, []).append(q)
        asked = hit = cited = upper = chats = repeated = 0
        with found.assistant as assistant:
            for article_id, questions in by_article.items():
                name_said = subject_of(questions)
                if name_said is None:
                    continue
                naming = [q for q in questions if name_said in names(q.question)]
                text = assistant.catalog.article_text(article_id) or ""
                pronoun = pronoun_for(name_said, text)
                chat = apart(naming, args.turns) if args.apart else naming[: args.turns]
                chats += 1
                history: list[Turn] = []
                previous: Answer | None = None
                for number, q in enumerate(chat):
                    text = q.question
                    if number:
                        text = with_pronoun(q.question, name_said, pronoun) or q.question
                    reply = assistant.ask(text, history=history)
                    history.append(Turn.of(reply))
                    before, previous = previous, reply
                    if not number or before is None:
                        continue
                    asked += 1
                    said = {c.quote for c in reply.citations}
                    repeated += bool(said & {c.quote for c in before.citations})
                    right = reply.found and contains_answer(reply.text, q.answers)
                    hit += right
                    cited += bool(reply.citations) and reply.citations[0].article_id == article_id
                    alone = assistant.ask(q.question)
                    upper += alone.found and contains_answer(alone.text, q.answers)
                    if args.show:
                        print(f"  {'+' if right else '-'} {text!r}: {reply.text[:100]!r}")
        print(
            f"{name} ({args.half} half): {chats} chats, {asked} follow-ups: answer hit with "
            f"history {hit / max(asked, 1):.3f}, cited from the chat's article "
            f"{cited / max(asked, 1):.3f}, quoting a sentence the answer before quoted "
            f"{repeated / max(asked, 1):.3f}; the same questions with their name, asked alone: "
            f"{upper / max(asked, 1):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
