"""The reader's training script on a tiny synthetic set: the loss falls, and a run interrupted
after a checkpoint resumes to the very weights of an uninterrupted one.

A tiny BERT (2 layers, 32 wide) with the bundled model's tokenizer stands in for MiniLM, so the
real training loop, batching, losses, checkpoints and resume run in seconds."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch  # a core dependency (through sentence-transformers): never skipped

from embeddings.reader_training import Example, TrainSettings, batches, train
from embeddings.sentence import default_model_path

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copyfile(default_model_path() / name, folder / name)
    return folder


def examples(rounds: int = 1) -> list[Example]:
    """Questions whose answer sentence repeats the question's thing; negatives talk of other
    things. ``rounds`` repeats the set under new group names (epochs)."""
    colours = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange"]
    things = ["car", "house", "door", "kite", "boat", "hat", "cup", "bike"]
    out = []
    pairs = [(c, t) for c in colours for t in things] * rounds
    for n, (colour, thing) in enumerate(pairs):
        group = f"g{n}"
        question = f"what colour is the {thing}?"
        out.append(Example("reader", group, question, f"the {thing} is {colour}.", 1))
        for other in ("the weather was cold.", "trains run late.", "he likes soup."):
            out.append(Example("reader", group, question, other, 0))
        label = n % 3
        claim = f"the {thing} is {colour}."
        evidence = [f"the {thing} is {colour}.", f"the {thing} is not {colour}.", "it rained."]
        out.append(Example("verifier", f"v{n}", claim, evidence[label], label))
    return out


SETTINGS = TrainSettings(
    seed=3,
    groups_per_batch=4,
    verify_batch=8,
    learning_rate=1e-3,
    head_learning_rate=1e-2,
    max_tokens=32,
    verify_max_tokens=32,
    threads=1,
    checkpoint_steps=1000,
)


def test_loss_falls(tiny_model: Path, tmp_path: Path) -> None:
    final = train(examples(rounds=4), tiny_model, tmp_path / "run", SETTINGS)
    assert final is not None and final.exists()
    losses = json.loads((tmp_path / "run" / "losses.json").read_text())["reader"]
    assert len(losses) == 64  # 256 questions in batches of 4
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.8 * first, (first, last)


def test_an_interrupted_run_resumes_to_the_same_weights(tiny_model: Path, tmp_path: Path) -> None:
    data = examples()
    whole = train(data, tiny_model, tmp_path / "whole", SETTINGS)
    assert train(data, tiny_model, tmp_path / "parts", SETTINGS, stop_at=7) is None
    assert not (tmp_path / "parts" / "final.pt").exists()
    resumed = train(data, tiny_model, tmp_path / "parts", SETTINGS)
    assert whole is not None and resumed is not None
    a, b = torch.load(whole, weights_only=True), torch.load(resumed, weights_only=True)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name


def test_word_embeddings_train_only_when_asked(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import BertModel

    start = BertModel.from_pretrained(str(tiny_model)).embeddings.word_embeddings.weight
    name = "encoder.embeddings.word_embeddings.weight"
    data = examples()
    asked = TrainSettings(**{**SETTINGS.__dict__, "train_word_embeddings": True})
    for settings, moves in ((SETTINGS, False), (asked, True)):
        final = train(data, tiny_model, tmp_path / str(moves), settings, max_steps=4)
        assert final is not None
        trained = torch.load(final, weights_only=True)[name]
        assert torch.equal(trained, start) is not moves


def test_a_checkpoint_of_other_settings_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    data = examples()
    assert train(data, tiny_model, tmp_path / "run", SETTINGS, stop_at=2) is None
    other = TrainSettings(**{**SETTINGS.__dict__, "learning_rate": 5e-4})
    with pytest.raises(SystemExit, match="other settings"):
        train(data, tiny_model, tmp_path / "run", other)


def test_each_epoch_is_a_pass_over_every_pair_in_its_own_order() -> None:
    data = examples()
    once = batches(data, SETTINGS)
    thrice = batches(data, replace(SETTINGS, epochs=3))
    assert thrice[: len(once)] == once  # one epoch is the plan runs had before epochs
    passes = [thrice[n * len(once) : (n + 1) * len(once)] for n in range(3)]
    assert len(thrice) == 3 * len(once)

    def pairs(plan: list[tuple[str, list[Example]]]) -> list[Example]:
        return [example for _, batch in plan for example in batch]

    for plan in passes:
        assert sorted(pairs(plan), key=repr) == sorted(data, key=repr)
    assert pairs(passes[1]) != pairs(passes[0]) and pairs(passes[2]) != pairs(passes[1])


def test_fresh_negatives_give_each_pass_its_share_of_every_groups_negatives() -> None:
    group = [Example("reader", "q1", "Who?", "answer", 1)] + [
        Example("reader", "q1", "Who?", f"negative {n}", 0) for n in range(6)
    ]
    unanswerable = [Example("reader", "q2", "Why?", f"other {n}", 0) for n in range(5)]
    claim = [Example("verifier", "c", "claim", "evidence", 0)]
    plan = batches(group + unanswerable + claim, replace(SETTINGS, epochs=2, fresh_negatives=2))
    passes: list[set[str]] = [set(), set()]
    half = len(plan) // 2
    for n, (_, batch) in enumerate(plan):
        passes[n // half] |= {e.b for e in batch}
    first, second = passes
    assert first & second == {"answer", "evidence"}  # the positive and verifier pairs: both
    assert {"negative 0", "negative 2", "negative 4", "other 0", "other 2", "other 4"} <= first
    assert {"negative 1", "negative 3", "negative 5", "other 1", "other 3"} <= second
    same = batches(group, replace(SETTINGS, epochs=2))
    assert all(len(batch) == 7 for _, batch in same)  # fresh_negatives 1: every negative


def test_a_group_keeps_as_many_hard_negatives_as_asked() -> None:
    """The positive, then the hardest negatives: one of another article and one of the gold
    article first (``--fresh-negatives`` mines more of them)."""
    from qa.pipeline.answer import Candidate
    from qa.training.mining import NEGATIVES, pick_group
    from qa.types import Passage

    def sentence(article: str, text: str) -> Candidate:
        passage = Passage(1, article, article, None, None, "", text, 0, len(text), 1.0, 1, 0, 0)
        return Candidate(passage, 0, len(text), text, 0.5, 0.5, 1.0)

    scored = [sentence("gold", "the answer")] + [
        sentence("gold" if n % 2 else "other", f"negative {n}") for n in range(9)
    ]
    gold = lambda c: c.text == "the answer"  # noqa: E731
    never = lambda c: False  # noqa: E731
    for wanted in (NEGATIVES, 2 * NEGATIVES):
        pairs = pick_group("g", "squad", "Q?", scored, gold, never, None, "gold", wanted)
        assert [p.label for p in pairs] == [1] + [0] * wanted
        assert [p.b.split("\n")[-1] for p in pairs[1:3]] == ["negative 0", "negative 1"]


def test_span_targets_point_at_the_answer_tokens_of_segment_b() -> None:
    from transformers import AutoTokenizer

    from embeddings.reader_training import encode, span_targets

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True)
    items = [
        # the title holds the answer's words too: only segment B's sentence counts
        Example(
            "reader",
            "g",
            "Who won?",
            "Denver Broncos\nThe Denver Broncos won 24-10.",
            1,
            "Denver Broncos",
        ),
        Example("reader", "g", "Who won?", "Super Bowl\nThe game was played in 2016.", 0),
        Example("reader", "h", "When?", "Tesla\nHe was born in 1856 in Smiljan.", 1, "1856"),
    ]
    inputs = encode(tokenizer, items, 64, offsets=True)
    offsets = inputs.pop("offset_mapping")
    targets = span_targets(items, inputs, offsets)
    encoded = tokenizer([e.a for e in items], [e.b for e in items], padding=True)
    assert targets[1].tolist() == [-100, -100]
    for row, answer in ((0, "denver broncos"), (2, "1856")):
        start, end = targets[row].tolist()
        assert encoded.sequence_ids(row)[start] == 1
        assert tokenizer.decode(encoded["input_ids"][row][start : end + 1]) == answer
        assert start > encoded["input_ids"][row].index(tokenizer.sep_token_id) + 3  # not the title
    # with no_answer, the negative points at [CLS] and the positives keep their answer tokens
    marked = span_targets(items, inputs, offsets, no_answer=True)
    assert marked[1].tolist() == [0, 0]
    assert marked[0].tolist() == targets[0].tolist() and marked[2].tolist() == targets[2].tolist()
    # truncated away: no target
    long = Example("reader", "g", "Who?", "T\n" + "word " * 60 + "Ada Lovelace.", 1, "Ada Lovelace")
    inputs = encode(tokenizer, [long], 32, offsets=True)
    assert span_targets([long], inputs, inputs.pop("offset_mapping")) is None


def test_the_span_loss_trains_a_span_head_only_when_asked(tiny_model: Path, tmp_path: Path) -> None:
    data = [
        replace(e, answer=e.b.split()[-1].rstrip(".")) if e.task == "reader" and e.label else e
        for e in examples()
    ]
    plain = train(data, tiny_model, tmp_path / "plain", SETTINGS, max_steps=6)
    spans = train(
        data, tiny_model, tmp_path / "spans", replace(SETTINGS, span_weight=0.5), max_steps=6
    )
    assert plain is not None and spans is not None
    plain_state, span_state = (torch.load(p, weights_only=True) for p in (plain, spans))
    assert "span.weight" in span_state and "span.weight" not in plain_state
    changed = "encoder.encoder.layer.1.output.dense.weight"
    assert not torch.allclose(plain_state[changed], span_state[changed])
    # negatives pointing at [CLS] are a different signal: the encoder moves differently
    marked = train(
        data,
        tiny_model,
        tmp_path / "marked",
        replace(SETTINGS, span_weight=0.5, span_no_answer=True),
        max_steps=6,
    )
    assert marked is not None
    marked_state = torch.load(marked, weights_only=True)
    assert not torch.allclose(marked_state[changed], span_state[changed])


def test_the_listwise_weight_changes_what_the_reader_learns(
    tiny_model: Path, tmp_path: Path
) -> None:
    full = train(examples(), tiny_model, tmp_path / "full", SETTINGS, max_steps=6)
    half = train(
        examples(), tiny_model, tmp_path / "half", replace(SETTINGS, listwise_weight=0.5),
        max_steps=6,
    )  # fmt: skip
    assert full is not None and half is not None
    full_state, half_state = (torch.load(p, weights_only=True) for p in (full, half))
    changed = "encoder.encoder.layer.1.output.dense.weight"
    assert not torch.allclose(full_state[changed], half_state[changed])


def test_a_positive_is_given_its_answer_as_the_sentence_writes_it() -> None:
    from qa.training.data import answer_in

    sentence = "Apollo program\nPhillips managed Apollo from January 1964 until July 1969."
    assert answer_in(sentence, ["january 1964", "1964"]) == "1964"  # the shortest found
    assert answer_in(sentence, ["july 1969"]) == "July 1969"
    assert answer_in(sentence, ["Apollo program"]) == ""  # the title is not the sentence
    assert answer_in(sentence, ["NASA"]) == ""


def test_contrast_batches_keep_each_claims_evidences_together() -> None:
    data = examples(rounds=2)
    settings = replace(SETTINGS, contrast_weight=1.0, epochs=2)
    plan = batches(data, settings)
    verify = [batch for task, batch in plan if task == "verifier"]
    claims_in: dict[str, set[int]] = {}
    for number, batch in enumerate(verify):
        for example in batch:
            claims_in.setdefault(example.a, set()).add(number)
    # each claim's pairs sit in one batch per pass
    assert all(len(batches_of) == 2 for batches_of in claims_in.values())
    read = sorted((e for batch in verify for e in batch), key=repr)
    assert read == sorted([e for e in data if e.task == "verifier"] * 2, key=repr)
    assert batches(data, SETTINGS) != batches(data, replace(SETTINGS, contrast_weight=1.0))


def test_the_contrast_loss_ranks_a_claims_supporting_evidence_first() -> None:
    from embeddings.reader_training import _contrast

    items = [
        Example("verifier", "v1", "the cup is red.", "the cup is red.", 0),
        Example("verifier", "v2", "the cup is red.", "the cup is blue.", 1),
        Example("verifier", "v3", "the hat is big.", "it rained.", 2),  # nothing to contrast
    ]
    right = torch.tensor([[3.0, -3.0, 0.0], [-3.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    wrong = torch.tensor([[-3.0, 3.0, 0.0], [3.0, -3.0, 0.0], [0.0, 0.0, 0.0]])
    assert float(_contrast(right, items)) < 0.01 < 5.0 < float(_contrast(wrong, items))
    assert _contrast(right, items[2:]) is None
    assert _contrast(right[:2], [items[0], replace(items[1], label=0)]) is None


def test_the_command_line_sets_the_body_learning_rate_and_refuses_one_no_run_can_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa.training.__main__ import parse, settings_of

    assert settings_of(parse(["--learning-rate", "1e-4"])).learning_rate == 1e-4
    assert settings_of(parse(["--model", "verifier"])).learning_rate == 5e-5
    with pytest.raises(SystemExit):
        parse(["--mine-with-reader", str(Path(__file__).parent)])
    assert "holds no reader.onnx" in capsys.readouterr().err
    for useless in ("0", "-1e-4", "2"):
        with pytest.raises(SystemExit):
            parse([f"--learning-rate={useless}"])
        assert "--learning-rate must be above 0" in capsys.readouterr().err


def test_mining_skips_a_disfluent_question_with_no_words(tmp_path: Path) -> None:
    """Disfl-QA has a row whose question is punctuation alone, which the assistant refuses to
    search: mining (``make reader``) skips it instead of stopping there."""
    import gzip

    from qa.training.mining import Mining, disfl_groups, index_training

    context = "The Rhine flows through Basel. The river is 1,230 km long and ends in the sea."
    question = {"id": "q1", "question": "How long is the Rhine?", "answers": []}
    question["answers"] = [{"text": "1,230 km", "answer_start": context.index("1,230")}]
    raw = [{"title": "Rhine", "paragraphs": [{"context": context, "qas": [question]}]}]
    squad = tmp_path / "squad.json.gz"
    with gzip.open(squad, "wt", encoding="utf-8") as handle:
        json.dump({"data": raw}, handle)
    index_training(raw, "squad", tmp_path)[0].close()
    disfl = tmp_path / "disfl.jsonl.gz"
    rows = [
        {"title": "Rhine", "question": '\\ "\\ "', "context": context, "answer": ""},
        {
            "title": "Rhine",
            "question": "How wide no how long is the Rhine?",
            "context": context,
            "answer": "1,230 km",
            "answer_start": context.index("1,230"),
        },
    ]
    with gzip.open(disfl, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    pairs = disfl_groups(disfl, squad, tmp_path, limit=10, how=Mining(seed=1))
    assert {p.a for p in pairs} == {"How wide no how long is the Rhine?"}
    assert [p.b for p in pairs if p.label == 1] == [
        "Rhine\nThe river is 1,230 km long and ends in the sea."
    ]


def test_mining_with_the_reader_keeps_the_sentences_it_finds_hardest_first() -> None:
    """``--mine-with-reader``: the sentences the reader would read are put in the shipped
    reader's order (the answer first here, where the cheap order had it second); the rest keep
    their place after them."""
    from embeddings.reader import ReaderModel
    from qa.pipeline.answer import Candidate
    from qa.training.mining import as_scored, by_reader
    from qa.types import Passage

    def sentence(text: str) -> Candidate:
        passage = Passage(1, "rhine", "Rhine", None, None, "", text, 0, len(text), 1.0, 1, 0, 0)
        return Candidate(passage, 0, len(text), text, 0.5, 0.5, 1.0)

    cheap = [
        sentence("The Rhine flows through Basel and Cologne."),
        sentence("The river is 1,230 km long and ends in the North Sea."),
        sentence("Its name comes from a Celtic word."),
    ]
    question = "How long is the Rhine?"
    assert as_scored(question, cheap) == cheap
    ordered = by_reader(ReaderModel(), read=2)(question, cheap)
    assert [c.text for c in ordered] == [cheap[1].text, cheap[0].text, cheap[2].text]
    assert by_reader(ReaderModel(), read=2)(question, []) == []


def test_mining_uses_only_its_own_training_articles_in_a_copied_index(tmp_path: Path) -> None:
    """An index copied from another work folder held each article twice (that folder's copy of
    the file still exists, so ``prune`` kept it): mining removes what other files put there."""
    from qa.training.mining import index_training

    context = "The Rhine flows through Basel. The river is 1,230 km long and ends in the sea."
    raw = [{"title": "Rhine", "paragraphs": [{"context": context, "qas": []}]}]
    first, second = tmp_path / "first", tmp_path / "second"
    index_training(raw, "squad", first)[0].close()
    shutil.copytree(first / "index-squad", second / "index-squad")
    assistant, _, source = index_training(raw, "squad", second)
    with assistant:
        assert [info.source for info in assistant.articles()] == [str(source.resolve())]


def test_mining_keeps_records_with_their_own_ids_in_a_copied_index(tmp_path: Path) -> None:
    """CoQA's stories carry their own ids: a copied index holds them once, whichever copy of
    the records file brought them, and mining keeps them."""
    from qa import Assistant
    from qa.training.mining import only_from

    story = {"id": "story-1", "title": "Rhine", "text": "The Rhine flows through Basel."}
    for folder in ("first", "second"):
        records = tmp_path / folder / "coqa-train.jsonl"
        records.parent.mkdir()
        records.write_text(json.dumps(story) + "\n", encoding="utf-8")
        if folder == "second":
            shutil.copytree(tmp_path / "first" / "index-coqa", tmp_path / folder / "index-coqa")
        with Assistant.open(tmp_path / folder / "index-coqa", reader=False) as assistant:
            assistant.ingest([records], prune=True)
            only_from(assistant, records)
            assert [info.title for info in assistant.articles()] == ["Rhine"]


def test_pairs_mined_another_way_are_refused_not_trained_on(tmp_path: Path) -> None:
    """A work folder's cached pairs say how they were mined (mining.json): asking for other
    negatives there stops with what to do, instead of training on the old pairs."""
    from qa.errors import QAError
    from qa.training.__main__ import mine
    from qa.training.data import READER, Pair, write_pairs
    from qa.training.mining import Mining

    pairs = [Pair(READER, "g", "squad", "Q?", "A.", 1), Pair(READER, "g", "squad", "Q?", "B.", 0)]
    write_pairs(pairs, tmp_path / "pairs.jsonl.gz")
    (tmp_path / "mining.json").write_text(json.dumps(Mining(13).described()), encoding="utf-8")
    assert mine(tmp_path / "no-data", tmp_path, Mining(13)) == pairs
    for other in (Mining(13, negatives=6), Mining(29), Mining(13, order="reader 1b4161a809b6")):
        with pytest.raises(QAError, match="mined another way"):
            mine(tmp_path / "no-data", tmp_path, other)


def test_more_questions_are_mined_as_asked_and_said_in_the_work_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--questions 2 asks every source for twice its budget, and a work folder mined with the
    default budget refuses to serve it (its pairs would be half the questions asked for)."""
    from qa.errors import QAError
    from qa.training import __main__ as command
    from qa.training import mining
    from qa.training.data import READER, Pair

    asked: dict[str, int] = {}

    def squad_groups(path: Path, name: str, work: Path, limit: int, how: mining.Mining) -> list:
        asked[name] = limit
        return [Pair(READER, name, name, "Q?", "A.", 1)]

    def other_groups(name: str):  # type: ignore[no-untyped-def]
        def groups(*args):  # type: ignore[no-untyped-def]
            asked[name] = next(a for a in args if isinstance(a, int))  # the budget
            return []

        return groups

    monkeypatch.setattr(mining, "squad_groups", squad_groups)
    monkeypatch.setattr(mining, "disfl_groups", other_groups("disfl-qa"))
    monkeypatch.setattr(mining, "coqa_groups", other_groups("coqa"))
    how = mining.Mining(13, questions=2)
    command.mine(tmp_path / "data", tmp_path / "twice", how)
    assert asked == {name: 2 * limit for name, limit in command.BUDGET.items()}
    command.mine(tmp_path / "data", tmp_path / "once", mining.Mining(13))
    assert asked == command.BUDGET
    assert mining.Mining(13).described() == {"seed": 13, "negatives": 3, "order": "cheap score"}
    with pytest.raises(QAError, match="mined another way"):
        command.mine(tmp_path / "data", tmp_path / "once", how)
    for useless in ("0", "-1"):
        with pytest.raises(SystemExit):
            command.parse([f"--questions={useless}"])
        assert "--questions must be above 0" in capsys.readouterr().err


def test_a_smaller_reader_keeps_evenly_spaced_layers_ending_at_the_last(tiny_model: Path) -> None:
    from transformers import BertModel

    from embeddings.reader_training import build_model, kept_layers

    assert kept_layers(6, 3) == [1, 3, 5]
    assert kept_layers(6, 6) == [0, 1, 2, 3, 4, 5]
    assert kept_layers(2, 1) == [1]
    for impossible in (0, 7):
        with pytest.raises(ValueError):
            kept_layers(6, impossible)
    small = build_model(tiny_model, layers=1)
    assert len(small.encoder.encoder.layer) == 1
    assert small.encoder.config.num_hidden_layers == 1
    whole = BertModel.from_pretrained(str(tiny_model))
    kept, last = small.encoder.encoder.layer[0], whole.encoder.layer[1]
    assert torch.equal(kept.output.dense.weight, last.output.dense.weight)


def _answer_logits(
    model_dir: Path, weights: Path, items: list[Example], layers: int
) -> torch.Tensor:
    from transformers import AutoTokenizer

    from embeddings.reader_training import build_model, encode

    model = build_model(model_dir, layers=layers)
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    with torch.no_grad():
        return model(**encode(tokenizer, items, 32))[0]


def test_a_student_learns_its_teachers_logits(tiny_model: Path, tmp_path: Path) -> None:
    """Taught a logit of 3 for every pair (answers and non-answers alike), a one-layer student
    ends nearer 3 than one trained on the labels alone."""
    data = [replace(e, teacher=3.0) if e.task == "reader" else e for e in examples()]
    settings = replace(SETTINGS, layers=1)
    alone = train(data, tiny_model, tmp_path / "alone", settings, max_steps=12)
    taught = train(
        data, tiny_model, tmp_path / "taught", replace(settings, distill_weight=2.0), max_steps=12
    )
    assert alone is not None and taught is not None
    items = [e for e in data if e.task == "reader"][:64]
    gaps = [
        float(((_answer_logits(tiny_model, weights, items, 1) - 3.0) ** 2).mean())
        for weights in (alone, taught)
    ]
    assert gaps[1] < 0.5 * gaps[0], gaps


def test_teacher_logits_are_read_once_for_reader_pairs_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped reader teaches: its logit for each reader pair, NaN for verifier pairs, and a
    second run reads the cache (a teacher that fails would show it read again)."""
    import math

    from embeddings.reader import TRAINED_DIR, ReaderModel
    from qa.training.__main__ import teacher_logits
    from qa.training.data import Pair

    question = "What is the capital of Poland?"
    pairs = [
        Pair("reader", "g", "squad", question, "Warsaw\nWarsaw is the capital of Poland.", 1),
        Pair("reader", "g", "squad", question, "Warsaw\nThe Vistula is long.", 0),
        Pair("verifier", "v", "vitaminc", "It rained.", "It rained.", 0),
    ]
    first = teacher_logits(pairs, TRAINED_DIR, tmp_path)
    assert first[0] > first[1] and math.isnan(first[2])
    read = ReaderModel().answer_logits([question] * 2, [p.b for p in pairs[:2]])
    assert first[:2] == pytest.approx([float(v) for v in read])

    def refuse(*args: object) -> None:
        raise AssertionError("read again")

    monkeypatch.setattr(ReaderModel, "answer_logits", refuse)
    again = teacher_logits(pairs, TRAINED_DIR, tmp_path)
    assert again[:2] == first[:2] and math.isnan(again[2])
    other = [pairs[1], pairs[0], pairs[2]]  # as many pairs, another order: read again
    with pytest.raises(AssertionError, match="read again"):
        teacher_logits(other, TRAINED_DIR, tmp_path)
    monkeypatch.undo()
    assert teacher_logits(other, TRAINED_DIR, tmp_path)[:2] == pytest.approx(first[1::-1])


def test_the_command_line_takes_a_teacher_only_for_the_reader(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from embeddings.reader import TRAINED_DIR
    from qa.training.__main__ import parse, settings_of

    taught = settings_of(parse(["--layers", "3", "--teacher"]))
    assert (taught.layers, taught.distill_weight) == (3, 1.0)
    assert parse(["--teacher"]).teacher == TRAINED_DIR
    plain = settings_of(parse(["--distill-weight", "2"]))
    assert (plain.layers, plain.distill_weight) == (0, 0.0)  # no teacher: nothing to learn from
    with pytest.raises(SystemExit):
        parse(["--teacher", str(Path(__file__).parent)])
    assert "holds no reader.onnx" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["--model", "verifier", "--teacher"])
    assert "--teacher teaches the reader" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["--layers", "0"])
    with pytest.raises(SystemExit):
        parse(["--layers", "7"])  # before any mining, not when the model is built
    assert "the bundled model has 6 layers, 7 asked" in capsys.readouterr().err


def test_a_reader_read_back_from_its_onnx_file_reads_pairs_as_the_file_does() -> None:
    """The shipped reader's int8 weights, read back into the torch model, give the file's own
    logits up to the int8 rounding (the export's own agreement is within about .5)."""
    import numpy as np
    from transformers import AutoTokenizer

    from embeddings.reader import MODEL_FILE, TRAINED_DIR, ReaderModel, file_sha256
    from embeddings.reader_training import build_model, encode, load_start

    start = TRAINED_DIR / MODEL_FILE
    model = build_model(default_model_path())
    load_start(model, start, replace(SETTINGS, init_sha256=file_sha256(start)))
    model.eval()
    questions = ["Who brought the plague to Sicily?", "When did it start?"] * 3
    sentences = [
        "Black Death\nGenoese traders fled by ship to Sicily.",
        "Black Death\nThe plague struck Europe in 1347.",
        "Warsaw\nWarsaw is the capital of Poland.",
        "Black Death\nThe disease spread over the following years.",
        "Saturn V\nThe rocket was 110 m tall.",
        "Black Death\nIt began in Central Asia in the 1330s.",
    ]
    items = [Example("reader", "g", q, s, 0) for q, s in zip(questions, sentences, strict=True)]
    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    with torch.no_grad():
        torch_logits = model(**encode(tokenizer, items, 80))[0].numpy()
    file_logits = ReaderModel().answer_logits(questions, sentences)
    assert np.abs(torch_logits - file_logits).max() < 0.6, (torch_logits, file_logits)
    assert np.corrcoef(torch_logits, file_logits)[0, 1] > 0.97  # .988 measured
    assert torch_logits.argmax() == file_logits.argmax()
    with pytest.raises(ValueError, match="not the file"):
        load_start(model, start, SETTINGS)  # the settings name no start: refused before loading


def test_a_reader_file_without_a_weight_is_refused_naming_it(tmp_path: Path) -> None:
    import onnx

    from embeddings.reader import MODEL_FILE, TRAINED_DIR, file_sha256
    from embeddings.reader_training import build_model, load_start

    graph = onnx.load(str(TRAINED_DIR / MODEL_FILE))
    kept = [t for t in graph.graph.initializer if t.name != "Attention_2_qkv_bias"]
    del graph.graph.initializer[:]
    graph.graph.initializer.extend(kept)
    damaged = tmp_path / MODEL_FILE
    onnx.save(graph, str(damaged))
    settings = replace(SETTINGS, init_sha256=file_sha256(damaged))
    with pytest.raises(ValueError, match="no weight 'Attention_2_qkv_bias'"):
        load_start(build_model(default_model_path()), damaged, settings)


def test_a_smaller_reader_started_from_a_reader_keeps_that_readers_layers(
    tmp_path: Path,
) -> None:
    from embeddings.onnx_weights import read_weights
    from embeddings.reader import MODEL_FILE, TRAINED_DIR, file_sha256

    start = TRAINED_DIR / MODEL_FILE
    settings = replace(SETTINGS, layers=3, init_sha256=file_sha256(start))
    weights = train(examples(), default_model_path(), tmp_path, settings, max_steps=0, start=start)
    assert weights is not None
    trained = torch.load(weights, weights_only=True)
    shipped = read_weights(start)
    for new, old in enumerate((1, 3, 5)):
        for part in ("attention.self.query.weight", "output.dense.weight"):
            got = trained[f"encoder.encoder.layer.{new}.{part}"].numpy()
            assert (got == shipped[f"encoder.encoder.layer.{old}.{part}"]).all(), (new, part)
    assert "encoder.encoder.layer.3.output.dense.weight" not in trained
    assert (trained["answer.weight"].numpy() == shipped["answer.weight"]).all()


def test_the_command_line_starts_from_a_reader_only_where_there_is_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from embeddings.reader import MODEL_FILE, TRAINED_DIR, file_sha256
    from qa.training.__main__ import parse, settings_of

    started = settings_of(parse(["--layers", "3", "--init"]))
    assert started.init_sha256 == file_sha256(TRAINED_DIR / MODEL_FILE)
    assert settings_of(parse([])).init_sha256 == ""
    with pytest.raises(SystemExit):
        parse(["--init", str(Path(__file__).parent)])
    assert "--init: " in capsys.readouterr().err


def _vitaminc_file(folder: Path) -> Path:
    """A tiny VitaminC file: two titles, the first on the training side."""
    import gzip

    rows = [
        {
            "title": "Lake",
            "claim": "The lake is 30 m deep.",
            "evidence": "It is 30 m deep.",
            "label": "supports",
        },
        {
            "title": "Lake",
            "claim": "The lake is 30 m deep.",
            "evidence": "It is 41 m deep.",
            "label": "refutes",
        },
        {
            "title": "Lake",
            "claim": "The lake is old.",
            "evidence": "It has fish.",
            "label": "not_enough_info",
        },
        {"title": "River", "claim": "It is long.", "evidence": "It is short.", "label": "refutes"},
    ]
    path = folder / "vitaminc.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def test_refuting_vitaminc_pairs_are_also_read_the_other_way_round_when_asked(
    tmp_path: Path,
) -> None:
    """A contradiction holds both ways, support does not: --swap-refutes adds each refuting
    training pair with its evidence as the claim, and leaves the other pairs as they were."""
    import random

    from qa.training.data import LABELS, vitaminc_pairs

    path = _vitaminc_file(tmp_path)
    plain = vitaminc_pairs(path, 10, random.Random(13))
    swapped = vitaminc_pairs(path, 10, random.Random(13), swap_refutes=True)
    assert len(plain) == 3  # the odd title is held out
    assert swapped[:3] == plain
    assert [(p.source, p.a, p.b, LABELS[p.label]) for p in swapped[3:]] == [
        ("vitaminc-swapped", "It is 41 m deep.", "Lake\nThe lake is 30 m deep.", "refutes")
    ]


def test_verifier_pairs_made_another_way_are_refused_not_trained_on(tmp_path: Path) -> None:
    from qa.errors import QAError
    from qa.training.__main__ import mine_verifier
    from qa.training.data import VERIFIER, Pair, write_pairs

    pairs = [Pair(VERIFIER, "v", "vitaminc", "It rained.", "It rained.", 0)]
    write_pairs(pairs, tmp_path / "pairs.jsonl.gz")
    assert mine_verifier(tmp_path / "no-data", tmp_path, 13) == pairs  # a cache from before
    (tmp_path / "mining.json").write_text(
        json.dumps({"seed": 13, "swap_refutes": False}), encoding="utf-8"
    )
    assert mine_verifier(tmp_path / "no-data", tmp_path, 13) == pairs
    with pytest.raises(QAError, match="mined another way"):
        mine_verifier(tmp_path / "no-data", tmp_path, 13, swap_refutes=True)
    with pytest.raises(QAError, match="mined another way"):
        mine_verifier(tmp_path / "no-data", tmp_path, 29)


def test_the_command_line_swaps_refutes_only_for_the_verifier(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa.training.__main__ import parse

    assert parse(["--model", "verifier", "--swap-refutes"]).swap_refutes
    with pytest.raises(SystemExit):
        parse(["--swap-refutes"])
    assert "--swap-refutes is for --model verifier" in capsys.readouterr().err
