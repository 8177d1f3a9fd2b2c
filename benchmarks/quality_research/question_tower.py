"""A question tower (issue 23, tried 2026-12-05, not shipped): the bundled MiniLM fine-tuned on
questions alone, against the sentence and chunk vectors an index already stores (frozen, as
ingest wrote them), so an existing index would need no re-embedding.

    python benchmarks/reader_calibrate.py          # first: builds the calibration indexes
    nice python benchmarks/quality_research/question_tower.py --epochs 2 --lr 1e-4 --negs 15 \
        --out benchmarks/results/question-tower
    python benchmarks/reader_calibrate.py --question-model benchmarks/results/question-tower/model \
        [--question-model-for search]

Training questions: the training articles (``article_side``) of SQuAD dev, NYT dev and Amazon,
as indexed by reader_calibrate.py; a question's positives are its article's sentences (and
chunks) that hold a gold span, its negatives the article's other sentences (chunks) and the other
questions' positives in the batch (InfoNCE, scale 20). Printed after each pass, on the
calibration questions in the index: the sentence the cosine picks inside the gold chunk, and R@1
of the sentence vectors (best sentence per chunk) and of the chunk vectors, over the whole index.
"""

import argparse
import random
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
import torch

from benchmarks.common import RESULTS
from benchmarks.reader_calibrate import calibration_split
from embeddings.sentence import default_model_path
from qa.eval.evaluation import questions_for
from qa.eval.metrics import overlaps_span
from qa.stores.vector_format import decode
from qa.training.data import article_side

WORK = RESULTS / "reader-calibration"
FILES = ("squad", "nyt", "amazon")


def load(name):
    split = calibration_split(name, 7)
    raw, kept, inside = split.raw, split.kept, split.inside
    source = WORK / f"{name}-calibration.json"
    qs = questions_for([raw[n] for n in kept], source, kept)
    db = sqlite3.connect(WORK / f"index-{name}-calibration" / "index.sqlite")
    chunks = db.execute("select id, article_id, start, end, vector from chunks").fetchall()
    chunk_vec = decode([c[4] for c in chunks], "float32")
    chunk_of = {c[0]: (c[1], c[2], c[3], n) for n, c in enumerate(chunks)}
    sents = db.execute("select chunk_id, start, end, vector from sentences").fetchall()
    sent_vec = decode([s[3] for s in sents], "int8")
    sent_vec /= np.linalg.norm(sent_vec, axis=1, keepdims=True)
    by_article = defaultdict(list)  # article -> [(start, end, row)] unique spans
    by_chunk = defaultdict(list)
    seen = set()
    for n, (chunk_id, start, end, _) in enumerate(sents):
        article = chunk_of[chunk_id][0]
        by_chunk[chunk_id].append((start, end, n))
        if (article, start, end) not in seen:
            seen.add((article, start, end))
            by_article[article].append((start, end, n))
    chunks_of_article = defaultdict(list)
    for c in chunks:
        chunks_of_article[c[1]].append((c[2], c[3], chunk_of[c[0]][3], c[0]))
    items = {"train": [], "cal": []}
    for q in qs:
        if not q.spans or q.article_id is None:
            continue
        side = (
            "train"
            if article_side(q.article_number) == "train"
            else ("cal" if q.article_number in inside else None)
        )
        if side is None:
            continue
        pos = [r for s, e, r in by_article[q.article_id] if overlaps_span(s, e, q.spans)]
        neg = [r for s, e, r in by_article[q.article_id] if not overlaps_span(s, e, q.spans)]
        cpos = [
            (r, cid)
            for s, e, r, cid in chunks_of_article[q.article_id]
            if any(s <= a and b <= e for a, b in q.spans)
        ]
        cneg = [
            r
            for s, e, r, cid in chunks_of_article[q.article_id]
            if not any(s <= a and b <= e for a, b in q.spans)
        ]
        if not pos or not cpos:
            continue
        items[side].append(
            {
                "q": q.question,
                "pos": pos,
                "neg": neg,
                "cpos": [r for r, _ in cpos],
                "cneg": cneg,
                "gold_chunk": cpos[0][1],
                "spans": q.spans,
                "article": q.article_id,
            }
        )
    return {
        "items": items,
        "sent_vec": sent_vec,
        "chunk_vec": chunk_vec,
        "by_chunk": by_chunk,
        "sents": [(chunk_of[s[0]][0], s[1], s[2], s[0]) for s in sents],
        "chunks": [(c[0], c[1], c[2], c[3]) for c in chunks],
    }


def evaluate(encode, data):
    out = {}
    for name, d in data.items():
        cal = d["items"]["cal"]
        qv = encode([it["q"] for it in cal])
        choice = sent_r1 = chunk_r1 = 0
        sims_s = qv @ d["sent_vec"].T
        sims_c = qv @ d["chunk_vec"].T
        chunk_index = {c[0]: n for n, c in enumerate(d["chunks"])}
        # best sentence per chunk
        sent_chunk = np.array([chunk_index[s[3]] for s in d["sents"]])
        for n, it in enumerate(cal):
            rows = d["by_chunk"][it["gold_chunk"]]
            best = max(rows, key=lambda r: sims_s[n, r[2]])
            choice += overlaps_span(best[0], best[1], it["spans"])
            per_chunk = np.full(len(d["chunks"]), -9.0)
            np.maximum.at(per_chunk, sent_chunk, sims_s[n])
            top = d["chunks"][int(per_chunk.argmax())]
            sent_r1 += top[1] == it["article"] and any(
                top[2] <= a and b <= top[3] for a, b in it["spans"]
            )
            top = d["chunks"][int(sims_c[n].argmax())]
            chunk_r1 += top[1] == it["article"] and any(
                top[2] <= a and b <= top[3] for a, b in it["spans"]
            )
        k = len(cal)
        out[name] = (k, round(choice / k, 3), round(sent_r1 / k, 3), round(chunk_r1 / k, 3))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--negs", type=int, default=8)
    p.add_argument("--scale", type=float, default=20.0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--eval-only", action="store_true")
    args = p.parse_args()
    torch.manual_seed(13)
    random.seed(13)
    torch.set_num_threads(2)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    data = {name: load(name) for name in FILES}
    for name in FILES:
        print(name, {k: len(v) for k, v in data[name]["items"].items()}, flush=True)

    def encode(texts):
        model.eval()
        with torch.no_grad():
            return model.encode(texts, batch_size=64, normalize_embeddings=True)

    print("base", evaluate(encode, data), flush=True)
    if args.eval_only:
        return
    train = [(name, it) for name in FILES for it in data[name]["items"]["train"]]
    print("train questions", len(train), flush=True)
    for param in model[0].auto_model.embeddings.parameters():
        param.requires_grad = False
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    steps = args.epochs * (len(train) // args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(1, steps * 0.05)) * max(0.0, 1 - s / steps)
    )
    step = 0
    start = time.time()
    for epoch in range(args.epochs):
        random.Random(13 + epoch).shuffle(train)
        model.train()
        total = 0.0
        for b in range(0, len(train) - args.batch + 1, args.batch):
            batch = train[b : b + args.batch]
            feats = model.tokenize([it["q"] for _, it in batch])
            qv = model(feats)["sentence_embedding"]  # normalised (Normalize module)
            loss = 0.0
            for kind, posk, negk, vec in (
                ("s", "pos", "neg", "sent_vec"),
                ("c", "cpos", "cneg", "chunk_vec"),
            ):
                pos_rows = [
                    torch.from_numpy(data[n][vec][random.choice(it[posk])]) for n, it in batch
                ]
                P = torch.stack(pos_rows)
                logits_rows = []
                for i, (n, it) in enumerate(batch):
                    negs = random.sample(it[negk], min(args.negs, len(it[negk])))
                    cand = [P] + ([torch.from_numpy(data[n][vec][negs])] if negs else [])
                    C = torch.cat(cand)
                    logits_rows.append((qv[i : i + 1] @ C.T).squeeze(0) * args.scale)
                width = max(len(x) for x in logits_rows)
                L = torch.full((len(batch), width), -1e4)
                for i, x in enumerate(logits_rows):
                    L[i, : len(x)] = x
                loss = loss + torch.nn.functional.cross_entropy(L, torch.arange(len(batch)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total += float(loss.detach())
            if step % 50 == 0:
                print(
                    f"step {step}/{steps} loss {total / 50:.3f} {time.time() - start:.0f}s",
                    flush=True,
                )
                total = 0.0
        print(f"epoch {epoch + 1}", evaluate(encode, data), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(str(args.out / "model"))


if __name__ == "__main__":
    main()
