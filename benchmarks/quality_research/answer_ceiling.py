"""How high can answer hit go when the quote is one sentence? (issue 23, 2026-12-06.)

Text alone, no model, no index: for each question of the held-out (odd-numbered) articles,
whether the sentence that holds the gold answer's start (split as the product splits,
``qa.pipeline.sentences``) holds the whole answer (SQuAD-normalised words, as ``qa eval``'s
answer hit counts), and whether any sentence of the article does. A question whose every gold
answer runs over a sentence's end cannot be a hit for a quote of one sentence, however good the
reader is.

    python benchmarks/quality_research/answer_ceiling.py

2026-12-06, odd halves: the gold answer's sentence holds it for .990 of SQuAD's 5,173
questions, .987 of NYT's 2,230 and .966 of Amazon's 4,705 (some sentence of the article: .994 /
.991 / .968). Quoting sentences is not what keeps answer hit from issue 23's targets (.88 /
.80 / .75): the held-out answer hit of .843 / .743 / .361 is lost to finding the article (R@1
.907 / .853 / .387), choosing its sentence and abstaining.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import QA_FILES
from qa.eval.evaluation import load_squad, questions_for
from qa.eval.metrics import contains_answer
from qa.pipeline.formats import squad_article_text
from qa.pipeline.sentences import split_sentences
from qa.training.data import article_side


def main() -> None:
    for name, path in QA_FILES.items():
        raw = load_squad(path)
        numbers = [n for n in range(len(raw)) if article_side(n) == "held-out"]
        articles = [raw[n] for n in numbers]
        questions = questions_for(articles, None, numbers)
        texts = {n: squad_article_text(raw[n]["paragraphs"]) for n in numbers}
        sentences = {n: split_sentences(texts[n]) for n in numbers}
        gold_sentence = anywhere = total = 0
        for q in questions:
            if not q.spans:
                continue
            total += 1
            text, spans = texts[q.article_number], sentences[q.article_number]
            around = [text[a:b] for a, b in spans for s, _ in q.spans if a <= s < b]
            gold_sentence += any(contains_answer(s, q.answers) for s in around)
            anywhere += any(contains_answer(text[a:b], q.answers) for a, b in spans)
        print(
            f"{name}: {total} questions; the gold answer's sentence holds it {gold_sentence / total:.3f}, "
            f"some sentence of the article does {anywhere / total:.3f}"
        )


if __name__ == "__main__":
    main()
