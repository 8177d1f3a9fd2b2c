"""Does a span head's "no answer" score tell when to abstain? (issue 23, probe 2026-12-06.)

SQuAD 2.0 readers abstain by comparing the [CLS] span score (the "null" answer) with the best
span's. A reader trained with ``--span-weight .5 --span-no-answer`` has such a head (not
exported; it stays in the run's ``final.pt``). Here it is run in torch over the calibration
questions of ``benchmarks/reader_calibrate.py`` (its indexes must exist: run it first), and each
read sentence gets a fifth feature: the best span score minus the null score. The head is fitted
with and without it, by the same procedure (threshold for at most 5% false abstention on every
file, then the margin), on the same reads.

    nice python benchmarks/quality_research/null_score.py WORK_DIR/final.pt [QUESTIONS]

2026-12-06, the reader of `--span-weight .5 --span-no-answer` (model card, "Tried, not
shipped"), 250 questions a file and a third as many out of corpus (SQuAD / NYT / Amazon):
- without the null feature: score .6665; answer hit .868 / .700 / .400, citation precision
  .862 / .748 / .421, correct abstention .880 / .711 / .060;
- with it: score .6648; answer hit .868 / .704 / .400, citation precision .854 / .752 / .411,
  correct abstention .904 / .602 / .072 (the head gives it a weight of .151).
The span head's "no answer" does not tell out-of-corpus questions apart any better than the
reader's own logit: not built. (The probe's rule, written before the figures, asked for mean
correct abstention +.020 with the score no lower than -.003.)
"""

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import benchmarks.reader_calibrate as rc
from embeddings.reader_training import Example, TrainSettings, build_model, encode
from embeddings.sentence import default_model_path
from qa.pipeline import reader as rs

SPAN_TOKENS = 30  # the longest answer span considered, in tokens


class SpanReader:
    """``answer_logits`` as the product's reader gives them, from the torch weights, keeping
    each pair's span score minus its null score for ``features`` to read next."""

    def __init__(self, weights: Path) -> None:
        from transformers import AutoTokenizer

        self.model = build_model(default_model_path(), span_head=True)
        self.model.load_state_dict(torch.load(weights, weights_only=True))
        self.model.eval()
        self.tokenizer = AutoTokenizer.from_pretrained(
            str(default_model_path()), local_files_only=True
        )
        self.pending: list[float] = []

    def answer_logits(self, questions: list[str], sentences: list[str]) -> np.ndarray:
        items = [Example("reader", "q", q, s, 0) for q, s in zip(questions, sentences, strict=True)]
        inputs = encode(self.tokenizer, items, TrainSettings().max_tokens)
        with torch.no_grad():
            answer, _, span = self.model(**inputs, spans=True)
        in_b = (inputs["token_type_ids"] == 1) & (inputs["attention_mask"] == 1)
        start = span[:, :, 0].masked_fill(~in_b, -1e4)
        end = span[:, :, 1].masked_fill(~in_b, -1e4)
        pairs = start.unsqueeze(2) + end.unsqueeze(1)  # [row, start, end]
        n = pairs.shape[1]
        allowed = torch.ones(n, n).triu().tril(SPAN_TOKENS - 1).bool()
        best = pairs.masked_fill(~allowed, -1e4).flatten(1).max(dim=1).values
        null = span[:, 0, 0] + span[:, 0, 1]
        self.pending = (best - null).tolist()
        return answer.numpy()


def main() -> None:
    weights = Path(sys.argv[1])
    questions = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    reader = SpanReader(weights)
    plain = rs.features

    def features(candidate: Any, logit: float, top: float) -> tuple[float, ...]:
        return (*plain(candidate, logit, top), reader.pending.pop(0))

    rs.features = features
    rs.FEATURES = (*rs.FEATURES, "span minus null")
    rs.HEAD = rs.Head(0.0, (1.0, 0.0, 0.0, 0.0, 0.0))
    rc.ReaderModel = lambda _dir=None: reader
    asked = []
    for name in ("squad", "nyt", "amazon"):
        asked += rc.collect(name, questions, 7, rc.RESULTS / "reader-calibration", None,
                            rc.QuestionVectors())  # fmt: skip
    for label, keep in (("without the null feature", 4), ("with it", 5)):
        rs.FEATURES = rs.FEATURES[:keep] if keep == 4 else (*rs.FEATURES[:4], "span minus null")
        trimmed = [
            rc.Asked(a.file, a.in_corpus,
                     [rc.Read(r.features[:keep], r.gold, r.holds_answer, r.chunk_id)
                      for r in a.sentences],
                     a.gold_chunks, a.fused_top_gold, a.baseline, a.unmentioned)
            for a in asked
        ]  # fmt: skip
        head = rc.fit(trimmed)
        threshold = rc.threshold_for(head, trimmed)
        margin = max(rc.EXTRA_MARGINS, key=lambda m: (rc.score(head, trimmed, threshold, m), -m))
        print(f"## {label}: {head}, threshold {threshold}, margin {margin}")
        print(f"score {rc.score(head, trimmed, threshold, margin):.4f}")
        print(rc.table(head, trimmed, threshold, margin), flush=True)


if __name__ == "__main__":
    main()
