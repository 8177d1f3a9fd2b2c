"""Build chunks (old windows, new paragraph-aware), sentences, questions for both dev files;
embed every distinct text once with the product's default embedder (onnx-int8), cached by hash.
Run: PYTHONPATH=. python benchmarks/quality_research/prep.py
"""

import gzip
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import old_chunking

from qa.config import load_model
from qa.pipeline.chunking import Chunker, embedding_text
from qa.pipeline.formats import squad_article_text
from qa.pipeline.sentences import split_sentences
from qa.pipeline.tokens import get_encoding

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "results" / "quality-cache"
FILES = {
    "squad": str(HERE.parents[2] / "shared" / "data") + "/squad-dev-v1.1.json.gz",
    "nyt": str(HERE.parents[2] / "shared" / "data") + "/squadshifts-nyt-dev.json.gz",
}
enc = get_encoding()
count = lambda t: len(enc.encode_ordinary(t))
emb = load_model(None, None)
print("embedder", emb.name, getattr(emb, "backend", None), flush=True)
new = Chunker(count, 200, 40, model_tokens=emb.count_tokens, model_max_tokens=emb.max_tokens)
old = old_chunking.Chunker(
    count, 200, 40, model_tokens=emb.count_tokens, model_max_tokens=emb.max_tokens
)


def build(name):
    raw = json.load(gzip.open(FILES[name]))["data"]
    arts, qs = [], []
    for ai, a in enumerate(raw):
        text = squad_article_text(a["paragraphs"])
        title = a.get("title", "")
        arts.append((title, text))
        off = 0
        for p in a["paragraphs"]:
            for q in p["qas"]:
                spans = []
                for g in q["answers"]:
                    s = off + int(g["answer_start"])
                    e = s + len(g["text"])
                    if text[s:e] == g["text"]:
                        spans.append((s, e))
                qs.append(
                    dict(
                        q=" ".join(q["question"].split()),
                        answers=list(dict.fromkeys(g["text"] for g in q["answers"])),
                        art=ai,
                        spans=list(dict.fromkeys(spans)),
                    )
                )
            off += len(p["context"]) + 2
    data = {"arts": arts, "qs": qs}
    for kind, ch in (("new", new), ("old", old)):
        chunks = []
        for ai, (title, text) in enumerate(arts):
            for sp in ch.split(text, title):
                h = getattr(sp, "heading", "")
                et = (
                    embedding_text(title, text[sp.start : sp.end], h)
                    if kind == "new"
                    else old_chunking.embedding_text(title, text[sp.start : sp.end])
                )
                chunks.append((ai, sp.start, sp.end, et))
        data[kind] = chunks
    # sentences of the new chunks (distinct by article+offsets), each mapped to the chunks holding it
    sents, seen, sent_chunk = [], {}, []
    for ci, (ai, s, e, et) in enumerate(data["new"]):
        title = arts[ai][0]
        text = arts[ai][1]
        for a, b in split_sentences(text[s:e]):
            key = (ai, s + a, s + b)
            if key not in seen:
                seen[key] = len(sents)
                sents.append(key)
            sent_chunk.append((seen[key], ci))
    data["sents"] = sents
    data["sent_chunk"] = sent_chunk
    return data


def embed_cached(texts, tag):
    path = CACHE / f"{tag}.npy"
    if path.exists():
        return np.load(path)
    store = CACHE / "byhash"
    store.mkdir(exist_ok=True)
    out = np.zeros((len(texts), emb.dimension), np.float32)
    todo = list(range(len(texts)))
    t0 = time.time()
    from embeddings.batching import embed_sorted  # the product's ingest path (length-sorted)

    done = [0]

    def tick(n):
        done[0] += n
        if done[0] % 1024 < 64:
            print(tag, done[0], "/", len(texts), f"{time.time() - t0:.0f}s", flush=True)

    out = embed_sorted(emb, texts, tick)
    np.save(path, out)
    print(tag, "done", len(texts), f"{time.time() - t0:.1f}s", flush=True)
    return out


datas = {}
for name in FILES:
    p = CACHE / f"{name}.pkl"
    if p.exists():
        datas[name] = pickle.load(open(p, "rb"))
    else:
        datas[name] = build(name)
        pickle.dump(datas[name], open(p, "wb"))
    d = datas[name]
    print(
        name,
        "arts",
        len(d["arts"]),
        "qs",
        len(d["qs"]),
        "new",
        len(d["new"]),
        "old",
        len(d["old"]),
        "sents",
        len(d["sents"]),
        flush=True,
    )
order = [
    ("q", lambda d: [q["q"] for q in d["qs"]]),
    ("new", lambda d: [c[3] for c in d["new"]]),
    (
        "sent",
        lambda d: [embedding_text(d["arts"][a][0], d["arts"][a][1][s:e]) for a, s, e in d["sents"]],
    ),
    ("old", lambda d: [c[3] for c in d["old"]]),
]
for tag, f in order:
    for name in FILES:
        embed_cached(f(datas[name]), f"{name}-{tag}")
