"""The cosine support check of generated sentences (qa/llm/check.py, ``--check cosine``) with
the real embedding model: its threshold (SUPPORT_THRESHOLD) was calibrated on SQuAD with that
model, so the hash test model cannot say whether it separates what it should."""

from __future__ import annotations

import pytest

from embeddings import Embedder
from qa.llm.check import SUPPORT_THRESHOLD, AnswerSentence, check_sentences
from qa.pipeline.sentences import split_sentences
from qa.types import Passage

pytestmark = pytest.mark.integration

RHINE = (
    "The Rhine rises in the Swiss Alps. It flows north through Germany and the Netherlands "
    "into the North Sea. The river is 1,230 kilometres long. Cologne cathedral stands on its "
    "western bank."
)
# Written for this test: a claim the passage states (in other words), and the sentence that
# states it; then claims on the same river that the passage does not make, and claims about
# something else. (Claims that copy a sentence but change one number are a known blind spot of
# this check, measured in shared/FINDINGS.md: not asserted here either way.)
SUPPORTED = [
    ("The Rhine begins in the Swiss Alps.", "The Rhine rises in the Swiss Alps."),
    ("The Rhine has its source in the Alps of Switzerland.", "The Rhine rises in the Swiss Alps."),
    (
        "The river flows through Germany and the Netherlands to the North Sea.",
        "It flows north through Germany and the Netherlands into the North Sea.",
    ),
    ("The Rhine is about 1,230 kilometres in length.", "The river is 1,230 kilometres long."),
    (
        "Cologne's cathedral is on the west bank of the Rhine.",
        "Cologne cathedral stands on its western bank.",
    ),
]
NOT_SUPPORTED = [
    "The Rhine valley is known for its vineyards and castles.",
    "The Rhine is the main trade route for coal barges to Basel.",
    "The river freezes over every winter.",
    "Salmon returned to the river after the cleanup in the 1990s.",
    "Many tourists take boat trips between Mainz and Koblenz.",
    "The Danube flows east into the Black Sea.",
    "Paris is the capital of France.",
]


def passage(text: str, start: int = 500) -> Passage:
    return Passage(1, "rhine", "Rhine", None, None, "/rhine.md", text, start, start + len(text),
                   1.0, 1, 0.5, 0.0)  # fmt: skip


def test_the_threshold_separates_stated_claims_from_unstated_ones(real_model: Embedder) -> None:
    given = passage(RHINE)
    claims = [claim for claim, _ in SUPPORTED] + NOT_SUPPORTED
    results = check_sentences([AnswerSentence(c, [1]) for c in claims], [given], real_model)
    scores = {r.sentence.text: round(r.score, 3) for r in results}
    for (claim, quote), result in zip(SUPPORTED, results, strict=False):
        assert result.supported, (claim, scores)
        assert result.quote == quote and result.passage == 1 and not result.reattributed
        at = RHINE.index(quote)
        assert (result.start, result.end) == (given.start + at, given.start + at + len(quote))
    for result in results[len(SUPPORTED) :]:
        assert not result.supported and result.quote == "", (result.sentence.text, scores)
    # The threshold sits between the two groups, not at either edge of the scores seen.
    lowest_supported = min(r.score for r in results[: len(SUPPORTED)])
    highest_unsupported = max(r.score for r in results[len(SUPPORTED) :])
    assert highest_unsupported < SUPPORT_THRESHOLD <= lowest_supported, scores


def test_a_claim_is_attributed_to_the_passage_that_states_it(real_model: Embedder) -> None:
    """Cited wrongly ([2] for a Rhine claim), the claim is moved to the passage that states it."""
    rhine = passage(RHINE)
    plague_text = "The Black Death reached Europe in 1347. Genoese traders brought it to Sicily."
    plague = passage(plague_text, start=0)
    (result,) = check_sentences(
        [AnswerSentence("The Rhine begins in the Swiss Alps.", [2])], [rhine, plague], real_model
    )
    assert result.supported and result.reattributed and result.passage == 1
    (first,) = [RHINE[a:b] for a, b in split_sentences(RHINE)][:1]
    assert result.quote == first
