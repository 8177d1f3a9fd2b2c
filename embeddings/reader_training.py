"""Train the reader: a cross-encoder from the bundled all-MiniLM-L6-v2 weights, two heads.

One network reads a pair (segment A, segment B) and gives two things:

- ``answer``: one logit, "segment B (a sentence) answers question A";
- ``verify``: three logits, "claim A is supported / refuted / not enough info by evidence B".

Both heads sit on the mean of the last layer's token vectors (the pooling the bi-encoder was
trained with, so the pooled vector means something from the first step; a CLS head started
from these weights learned far more slowly in the probes of ../shared/FINDINGS.md). The word
embeddings stay frozen: they are half of the weights, and freezing them keeps the vocabulary the
bi-encoder learnt for words the training data never shows.

Loss: reader pairs come in groups (one question: its positive and its hard negatives) and get
binary cross-entropy per pair (so the probability is calibrated for abstention) plus a listwise
softmax over each group with a positive (so the right sentence beats its neighbours). Verifier
pairs get 3-way cross-entropy. Batches hold one task each; their order is fixed by the seed.

Seeded and resumable: a checkpoint (weights, optimiser, schedule, step) is written every
``CHECKPOINT_STEPS`` and at the end; running the same command again continues from it.
torch and transformers are imported here only: nothing at query time needs them
(``embeddings.reader`` runs the exported ONNX file).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embeddings.sentence import go_offline

LABELS = ("supports", "refutes", "not_enough_info")
CHECKPOINT_STEPS = 150
LOG_STEPS = 25


@dataclass(frozen=True)
class TrainSettings:
    """What a training run does; stored with the checkpoint so a resume cannot change it."""

    seed: int = 13
    max_tokens: int = 80  # reader pairs: question + short title + sentence
    verify_max_tokens: int = 96  # verifier pairs: claim + evidence sentences
    groups_per_batch: int = 8  # reader: 8 questions x (1 positive + 3 negatives)
    verify_batch: int = 32
    # The body's peak rate. 1e-4 was tried for both models (2026-12-06, model card): reader
    # calibration score .6660 against .6718, verifier VitaminC .758 against .756.
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup_share: float = 0.05
    weight_decay: float = 0.01
    listwise_weight: float = 1.0
    threads: int = 0  # 0: every core this process may use
    checkpoint_steps: int = CHECKPOINT_STEPS
    epochs: int = 1  # passes over the pairs, each in its own seeded order
    # Train the word embeddings too (frozen by default, see the module's docstring): the
    # bi-encoder put "solid" next to "liquid" and "tenth" next to "eleventh", which a verifier
    # must tell apart.
    train_word_embeddings: bool = False
    # Reader groups mined with this many times the negatives read in a pass: pass k reads the
    # positive with every ``fresh_negatives``-th negative from the k-th (interleaved, so each
    # pass reads the hardest ones by turn); 1 reads every negative in every pass.
    fresh_negatives: int = 1
    # Weight of a second, training-only loss on reader positives whose gold answer is found in
    # the sentence: a span head over the token vectors must point at the answer's first and last
    # tokens (as an extractive reader does), so the encoder learns where the answer is, not only
    # whether the sentence looks like one. 0: off. The head is not exported.
    span_weight: float = 0.0
    # With the span loss, a negative's span points at the [CLS] token, as SQuAD 2.0 readers mark
    # "no answer here": the encoder then learns where an answer is *and* that a sentence of the
    # right type in the wrong place has none (the span loss alone, at .5, lost correct abstention).
    span_no_answer: bool = False
    # Weight of a second verifier loss over the evidences of one claim (VitaminC gives most
    # claims a supporting and a refuting one that differ in a word or a number): its supporting
    # evidence must have the highest "supports" logit of them, its refuting one the highest
    # "refutes" logit. The pairs of a claim then share a batch. 0: off (pairs shuffled alone).
    contrast_weight: float = 0.0
    # A smaller reader: keep this many of the bundled model's layers, evenly spaced and ending at
    # the last (``kept_layers``: 3 of 6 are 1, 3, 5); 0 keeps them all. Half the layers read a
    # pair in about half the time (an AVX2-only CPU reads the shipped reader's 16 pairs in ~109 ms).
    layers: int = 0
    # Weight of the mean squared difference between the answer logit and a teacher reader's
    # (``Example.teacher``, the shipped reader's int8 logit: ``python -m qa.training --teacher``),
    # beside the loss on the labels; 0: off. Meant to teach a small reader the confidence that
    # abstention reads; a 3-layer reader taught so (2026-12-07) still abstained worse than its
    # teacher (calibration, NYT correct abstention .536 against .829; model card).
    distill_weight: float = 0.0
    # The sha256 of the reader file training started from (``train``'s ``start``: its int8
    # weights read back, ``embeddings.onnx_weights``); "": the bundled bi-encoder. Kept in the
    # settings so that a checkpoint is resumed only by a run from the same start.
    init_sha256: str = ""


def kept_layers(total: int, keep: int) -> list[int]:
    """The layers a ``keep``-layer reader keeps of ``total``: evenly spaced, ending at the last
    (whose mean the bi-encoder was trained to pool)."""
    if not 0 < keep <= total:
        raise ValueError(f"cannot keep {keep} of {total} layers")
    return [round((n + 1) * total / keep) - 1 for n in range(keep)]


@dataclass(frozen=True)
class Example:
    task: str  # "reader" or "verifier"
    group: str
    a: str
    b: str
    label: int
    answer: str = ""  # reader positives: the gold answer as segment B writes it ("" unknown)
    teacher: float = math.nan  # reader pairs: the teacher reader's logit (``distill_weight``)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def batches(
    examples: Sequence[Example], settings: TrainSettings
) -> list[tuple[str, list[Example]]]:
    """The run's batches, in a fixed order: reader batches of whole groups, verifier batches of
    pairs, each kind bucketed by length (less padding), then all shuffled together."""
    rng = random.Random(settings.seed)
    out: list[tuple[str, list[Example]]] = []
    for number in range(settings.epochs):
        out += _one_pass(_pass_share(examples, number, settings.fresh_negatives), settings, rng)
    return out


def _pass_share(examples: Sequence[Example], number: int, every: int) -> Sequence[Example]:
    """The examples pass ``number`` reads: verifier pairs and reader positives all, and of each
    reader group's negatives every ``every``-th, starting from the ``number % every``-th."""
    if every <= 1:
        return examples
    seen: dict[str, int] = {}
    kept: list[Example] = []
    for example in examples:
        if example.task != "reader" or example.label == 1:
            kept.append(example)
            continue
        position = seen.get(example.group, 0)
        seen[example.group] = position + 1
        if position % every == number % every:
            kept.append(example)
    return kept


def _one_pass(
    examples: Sequence[Example], settings: TrainSettings, rng: random.Random
) -> list[tuple[str, list[Example]]]:
    groups: dict[str, list[Example]] = {}
    verify: list[Example] = []
    for example in examples:
        if example.task == "reader":
            groups.setdefault(example.group, []).append(example)
        else:
            verify.append(example)

    def length(items: list[Example]) -> int:
        return max(len(e.a) + len(e.b) for e in items)

    def pair_length(example: Example) -> int:
        return len(example.a) + len(example.b)

    out: list[tuple[str, list[Example]]] = []
    reader_groups = list(groups.values())
    rng.shuffle(reader_groups)
    size = settings.groups_per_batch
    for block in range(0, len(reader_groups), size * 32):  # sort within blocks of 32 batches
        chunk = sorted(reader_groups[block : block + size * 32], key=length)
        for b in range(0, len(chunk), size):
            out.append(("reader", [e for g in chunk[b : b + size] for e in g]))
    if settings.contrast_weight > 0:
        out += _claim_batches(verify, settings.verify_batch, rng)
        rng.shuffle(out)
        return out
    rng.shuffle(verify)
    size = settings.verify_batch
    for block in range(0, len(verify), size * 32):
        pairs = sorted(verify[block : block + size * 32], key=pair_length)
        out += [("verifier", pairs[b : b + size]) for b in range(0, len(pairs), size)]
    rng.shuffle(out)
    return out


def _claim_batches(
    verify: Sequence[Example], size: int, rng: random.Random
) -> list[tuple[str, list[Example]]]:
    """Verifier batches of about ``size`` pairs made of whole claims (a claim's pairs side by
    side), claims shuffled, then sorted by length within blocks of 32 batches."""
    claims: dict[str, list[Example]] = {}
    for example in verify:
        claims.setdefault(example.a, []).append(example)
    grouped = list(claims.values())
    rng.shuffle(grouped)

    def length(items: list[Example]) -> int:
        return max(len(e.a) + len(e.b) for e in items)

    out: list[tuple[str, list[Example]]] = []
    block_pairs = size * 32
    start = 0
    while start < len(grouped):
        block, count = [], 0
        while start < len(grouped) and count < block_pairs:
            block.append(grouped[start])
            count += len(grouped[start])
            start += 1
        batch: list[Example] = []
        for claim in sorted(block, key=length):
            batch += claim
            if len(batch) >= size:
                out.append(("verifier", batch))
                batch = []
        if batch:
            out.append(("verifier", batch))
    return out


def build_model(model_dir: Path, span_head: bool = False, layers: int = 0) -> Any:
    """The network; ``span_head`` adds the training-only span head (``span_weight``), after the
    others so that a run without it draws the same initial weights and dropout as before;
    ``layers`` keeps that many of the encoder's layers (``kept_layers``; 0: all)."""
    import torch

    go_offline()
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(
                str(model_dir), local_files_only=True, attn_implementation="eager"
            )
            if layers:
                total = int(self.encoder.config.num_hidden_layers)
                stack = self.encoder.encoder.layer
                self.encoder.encoder.layer = torch.nn.ModuleList(
                    stack[n] for n in kept_layers(total, layers)
                )
                self.encoder.config.num_hidden_layers = layers
            hidden = int(self.encoder.config.hidden_size)
            self.dropout = torch.nn.Dropout(0.1)
            self.answer = torch.nn.Linear(hidden, 1)
            self.verify = torch.nn.Linear(hidden, len(LABELS))
            if span_head:
                self.span = torch.nn.Linear(hidden, 2)

        def forward(
            self, input_ids: Any, attention_mask: Any, token_type_ids: Any, spans: bool = False
        ) -> tuple[Any, ...]:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = self.dropout(pooled)
            if spans:
                return self.answer(pooled).squeeze(-1), self.verify(pooled), self.span(hidden)
            return self.answer(pooled).squeeze(-1), self.verify(pooled)

    model = Reader()
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def load_start(model: Any, start: Path, settings: TrainSettings) -> None:
    """Put the weights of the reader file ``start`` into ``model`` (its kept layers if
    ``settings.layers``), checking that the file is the one the settings name."""
    import torch

    from embeddings.onnx_weights import kept, read_weights
    from embeddings.reader import file_sha256

    if file_sha256(start) != settings.init_sha256:
        raise ValueError(f"{start} is not the file the settings start from")
    try:
        weights = read_weights(start)
    except KeyError as error:  # another graph than the export's (embeddings.onnx_weights)
        raise ValueError(f"{start}: no weight {error} where an exported reader has one") from None
    total = max(int(k.split(".")[3]) for k in weights if k.startswith("encoder.encoder.layer.")) + 1
    if settings.layers:
        weights = kept(weights, kept_layers(total, settings.layers))
    elif total != (size := len(model.encoder.encoder.layer)):
        raise ValueError(f"{start} has {total} layers, the model {size}")
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(v) for k, v in weights.items()}, strict=False
    )
    # The word embeddings stay the bundled model's (frozen, so the same); the pooler is unused
    # and the span head is not exported, so a new one starts fresh.
    left = [
        k
        for k in missing
        if "word_embeddings" not in k and ".pooler." not in k and not k.startswith("span.")
    ]
    if left or unexpected:
        raise ValueError(f"{start} does not fit the model: {(left + unexpected)[:3]}")


def encode(
    tokenizer: Any, items: Sequence[Example], max_tokens: int, offsets: bool = False
) -> dict[str, Any]:
    """The model's inputs; with ``offsets``, also each token's characters in its segment
    (``offset_mapping``, for ``span_targets``: pop it before calling the model)."""
    return dict(
        tokenizer(
            [e.a for e in items],
            [e.b for e in items],
            truncation="longest_first",
            max_length=max_tokens,
            padding=True,
            return_tensors="pt",
            return_offsets_mapping=offsets,
        )
    )


def train(
    examples: Sequence[Example],
    model_dir: Path,
    work_dir: Path,
    settings: TrainSettings,
    max_steps: int | None = None,
    stop_at: int | None = None,
    start: Path | None = None,
) -> Path | None:
    """Train (or resume) and return the path of the final weights (``work_dir/final.pt``).

    ``max_steps`` trains on the first batches only (probes, tests); ``stop_at`` stops after
    that step's checkpoint and returns None, as an interruption would (tests of resuming);
    ``start`` (a ``reader.onnx``, its sha256 in ``settings.init_sha256``) starts from that
    reader's weights instead of the bundled bi-encoder's, its kept layers if ``settings.layers``."""
    import torch

    go_offline()
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    work_dir.mkdir(parents=True, exist_ok=True)
    final = work_dir / "final.pt"
    if final.exists():
        _log(f"{final} exists: training is done (delete it to train again).")
        return final
    threads = settings.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = build_model(model_dir, span_head=settings.span_weight > 0, layers=settings.layers)
    if start is not None:
        load_start(model, start, settings)
    if settings.train_word_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(True)
    plan = batches(examples, settings)
    if max_steps is not None:
        plan = plan[:max_steps]
    body = [p for n, p in model.named_parameters() if p.requires_grad and "encoder" in n]
    heads = [p for n, p in model.named_parameters() if p.requires_grad and "encoder" not in n]
    optimizer = torch.optim.AdamW(
        [
            {"params": body, "lr": settings.learning_rate},
            {"params": heads, "lr": settings.head_learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    warmup = max(1, int(settings.warmup_share * len(plan)))

    def shape(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (len(plan) - step) / max(1, len(plan) - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, shape)
    checkpoint = work_dir / "checkpoint.pt"
    step = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        if state["settings"] != asdict(settings) or state["steps"] != len(plan):
            raise SystemExit(
                f"{checkpoint} was written by a run with other settings or data; delete it to "
                "start again."
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng"])
        step = int(state["step"])
        _log(f"resuming at step {step}/{len(plan)}")
    bce = torch.nn.BCEWithLogitsLoss()
    cross = torch.nn.CrossEntropyLoss()
    model.train()
    started, pairs_done = time.perf_counter(), 0
    running: dict[str, list[float]] = {"reader": [], "verifier": []}
    while step < len(plan):
        task, items = plan[step]
        limit = settings.max_tokens if task == "reader" else settings.verify_max_tokens
        no_answer = settings.span_no_answer
        spans = (
            task == "reader"
            and settings.span_weight > 0
            and any(e.answer or (no_answer and e.label == 0) for e in items)
        )
        inputs = encode(tokenizer, items, limit, offsets=spans)
        offsets = inputs.pop("offset_mapping", None)
        targets = span_targets(items, inputs, offsets, no_answer) if offsets is not None else None
        if targets is not None:
            answer, verify, span = model(**inputs, spans=True)
        else:
            answer, verify = model(**inputs)
        labels = torch.tensor([e.label for e in items])
        if task == "reader":
            loss = bce(answer, labels.float())
            listwise = _listwise(answer, items, labels)
            if listwise is not None:
                loss = loss + settings.listwise_weight * listwise
            if targets is not None:
                loss = loss + settings.span_weight * _span_loss(span, inputs, targets, no_answer)
            if settings.distill_weight > 0:
                loss = loss + settings.distill_weight * _distill(answer, items)
        else:
            loss = cross(verify, labels)
            if settings.contrast_weight > 0:
                contrast = _contrast(verify, items)
                if contrast is not None:
                    loss = loss + settings.contrast_weight * contrast
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        pairs_done += len(items)
        running[task].append(loss.item())
        if step % LOG_STEPS == 0 or step == len(plan):
            elapsed = time.perf_counter() - started
            rate = pairs_done / max(elapsed, 1e-9)
            left = sum(len(b) for _, b in plan[step:]) / max(rate, 1e-9)
            losses = " ".join(
                f"{k} {sum(v[-LOG_STEPS:]) / max(1, len(v[-LOG_STEPS:])):.4f}"
                for k, v in running.items()
                if v
            )
            _log(
                f"step {step}/{len(plan)}  loss {losses}  {rate:.1f} pairs/s  "
                f"~{left / 60:.0f} min left"
            )
        if (step % settings.checkpoint_steps == 0 and step < len(plan)) or step == stop_at:
            _save(checkpoint, model, optimizer, schedule, step, len(plan), settings)
        if step == stop_at:
            return None
    _save(checkpoint, model, optimizer, schedule, step, len(plan), settings)
    torch.save(model.state_dict(), f"{final}.tmp")
    os.replace(f"{final}.tmp", final)
    history = work_dir / "losses.json"
    history.write_text(json.dumps(running), encoding="utf-8")
    return final


def span_targets(
    items: Sequence[Example], inputs: dict[str, Any], offsets: Any, no_answer: bool = False
) -> Any:
    """(start, end) token of each example's answer in segment B, -100 where it has none or
    truncation cut it; None when no example has one. With ``no_answer``, a negative's is
    (0, 0), the [CLS] token. ``inputs`` and ``offsets`` come from ``encode(..., offsets=True)``."""
    import torch

    in_b = (inputs["token_type_ids"] == 1) & (inputs["attention_mask"] == 1)
    targets = torch.full((len(items), 2), -100, dtype=torch.long)
    for row, example in enumerate(items):
        if no_answer and example.label == 0:
            targets[row, 0], targets[row, 1] = 0, 0
            continue
        at = example.b.find(example.answer, example.b.find("\n") + 1) if example.answer else -1
        if at < 0:
            continue
        stop = at + len(example.answer)
        tokens = [
            token
            for token, (a, b) in enumerate(offsets[row].tolist())
            if in_b[row, token] and b > at and a < stop
        ]
        if tokens and int(offsets[row, tokens[-1], 1]) >= stop:
            targets[row, 0], targets[row, 1] = tokens[0], tokens[-1]
    return targets if bool((targets[:, 0] >= 0).any()) else None


def _span_loss(span: Any, inputs: dict[str, Any], targets: Any, no_answer: bool = False) -> Any:
    """Cross-entropy of the start and end tokens over segment B's tokens (rows with a target),
    and the [CLS] token with ``no_answer``."""
    import torch

    allowed = (inputs["token_type_ids"] == 1) & (inputs["attention_mask"] == 1)
    if no_answer:
        allowed[:, 0] = True
    logits = span.masked_fill(~allowed.unsqueeze(-1), -1e4)
    cross = torch.nn.functional.cross_entropy
    return (
        cross(logits[:, :, 0], targets[:, 0], ignore_index=-100)
        + cross(logits[:, :, 1], targets[:, 1], ignore_index=-100)
    ) / 2


def _distill(answer: Any, items: Sequence[Example]) -> Any:
    """Mean squared difference of the answer logits from the teacher's, over the pairs that
    have one."""
    import torch

    teacher = torch.tensor([e.teacher for e in items], dtype=answer.dtype)
    known = ~torch.isnan(teacher)
    if not bool(known.any()):
        return answer.sum() * 0.0
    return torch.nn.functional.mse_loss(answer[known], teacher[known])


def _contrast(verify: Any, items: Sequence[Example]) -> Any:
    """For each claim of the batch with a supporting and a refuting evidence: softmax
    cross-entropy of the "supports" logit over its evidences (the supporting one is the target)
    and of the "refutes" logit (the refuting one), averaged; None without such a claim."""
    import torch

    rows: dict[str, list[int]] = {}
    for n, example in enumerate(items):
        rows.setdefault(example.a, []).append(n)
    losses = []
    for members in rows.values():
        labels = [items[n].label for n in members]
        for label in (0, 1):  # supports, refutes
            if labels.count(label) != 1 or 1 - label not in labels:
                continue
            logits = verify[members, label].unsqueeze(0)
            target = torch.tensor([labels.index(label)])
            losses.append(torch.nn.functional.cross_entropy(logits, target))
    return torch.stack(losses).mean() if losses else None


def _listwise(answer: Any, items: Sequence[Example], labels: Any) -> Any:
    """Softmax cross-entropy of each group's positive against its negatives (mean over groups
    that have exactly one positive)."""
    import torch

    losses = []
    start = 0
    while start < len(items):
        end = start
        while end < len(items) and items[end].group == items[start].group:
            end += 1
        group_labels = labels[start:end]
        if int(group_labels.sum()) == 1 and end - start > 1:
            target = int(torch.argmax(group_labels))
            losses.append(
                torch.nn.functional.cross_entropy(
                    answer[start:end].unsqueeze(0), torch.tensor([target])
                )
            )
        start = end
    return torch.stack(losses).mean() if losses else None


def _save(
    path: Path,
    model: Any,
    optimizer: Any,
    schedule: Any,
    step: int,
    steps: int,
    settings: TrainSettings,
) -> None:
    import torch

    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "rng": torch.get_rng_state(),
        "step": step,
        "steps": steps,
        "settings": asdict(settings),
    }
    torch.save(state, f"{path}.tmp")
    os.replace(f"{path}.tmp", path)  # a kill mid-write leaves the previous checkpoint whole


def export(
    model_dir: Path, weights: Path, out_dir: Path, name: str = "reader.onnx", layers: int = 0
) -> dict[str, Any]:
    """Write ``name`` (int8, 7-bit weights: no saturation on any x86-64 CPU) and the
    tokenizer to ``out_dir``; return the agreement of int8 with torch on a few pairs."""
    import shutil

    import numpy as np
    import torch

    from embeddings.export import QUANTIZATIONS, optimize_graph, quantize_model, quietly

    model = build_model(model_dir, layers=layers)
    state = torch.load(weights, weights_only=True)
    # The span head (span_weight) only shapes training: it is not exported.
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("span.")})
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    raw, fused = out_dir / ".reader.export.onnx", out_dir / ".reader.fused.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes |= {"answer": {0: "batch"}, "verify": {0: "batch"}}

    def run_export() -> None:
        with torch.no_grad():
            torch.onnx.export(
                model,
                sample,
                str(raw),
                input_names=names,
                output_names=["answer", "verify"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )

    quietly(run_export)
    quietly(optimize_graph, model_dir, raw, fused)
    target = out_dir / name
    quietly(quantize_model, fused, target, QUANTIZATIONS[0])
    for leftover in (raw, fused):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    # Agreement: torch float against the int8 file on probe pairs.
    from embeddings.reader import ReaderModel

    probes = [
        ("Who brought the plague to Sicily?", "Black Death\nGenoese traders fled by ship."),
        ("When did it start?", "Black Death\nThe plague struck Europe in 1347."),
        ("Sales were under 23.5 million.", "Westlife\nTotal sales exceed 24 million."),
        ("What is the capital of Poland?", "Warsaw\nWarsaw is the capital of Poland."),
    ]
    go_offline()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    with torch.no_grad():
        inputs = tokenizer(
            [a for a, _ in probes], [b for _, b in probes], padding=True, return_tensors="pt"
        )
        exact_answer, exact_verify = model(**inputs)
    shipped = ReaderModel(out_dir, name)
    approx_answer = shipped.answer_logits([a for a, _ in probes], [b for _, b in probes])
    approx_verify = shipped.verify_logits([a for a, _ in probes], [b for _, b in probes])
    return {
        "answer_logit_max_abs_diff": float(np.abs(exact_answer.numpy() - approx_answer).max()),
        "verify_logit_max_abs_diff": float(np.abs(exact_verify.numpy() - approx_verify).max()),
        "size_bytes": target.stat().st_size,
    }


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
