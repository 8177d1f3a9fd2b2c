"""The prompt: numbered passages, the conversation so far, the question, and the rules.

Passages are fitted to the model's context here, by us, because servers truncate silently
(Ollama cuts the prompt at its num_ctx without an error). Tokens are counted with tiktoken's
cl100k_base, which is not the server model's tokenizer: ``SAFETY`` leaves a quarter of the
context for the difference and the chat template's own tokens (SmolLM2's tokenizer counted
1.07x cl100k's tokens on 24 demo-corpus passages, through llama-server's ``/tokenize``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.pipeline.sentences import split_sentences
from qa.pipeline.tokens import DEFAULT_ENCODING, get_encoding
from qa.types import Passage, Turn


def count_tokens(text: str) -> int:
    """tiktoken tokens of ``text`` in the chunker's encoding (the budget's unit)."""
    return len(get_encoding(DEFAULT_ENCODING).encode_ordinary(text))


SAFETY = 0.75  # of the context, the share the prompt and the answer may fill by our count
# Chat templates add a few tokens per message (role markers); counted per message.
TEMPLATE_TOKENS_PER_MESSAGE = 8
HISTORY_TURNS = 3  # earlier turns the model sees (older ones rarely matter for a follow-up)
MIN_PASSAGE_TOKENS = 40  # a passage cut shorter than this is left out instead

CANNOT_ANSWER = "The passages don't answer this question."

SYSTEM = (
    "You answer questions using only the numbered passages given to you. "
    "Write one to three short sentences. After each sentence put the number of the passage it "
    "comes from in square brackets, for example: The river rises in the Alps [2]. "
    "Use nothing but the passages. If they do not contain the answer, reply exactly: "
    f"{CANNOT_ANSWER}"
)


@dataclass(frozen=True)
class Prompt:
    """What is sent, and which passages (numbered 1..len) it holds, each possibly cut short."""

    messages: list[dict[str, str]]
    passages: list[Passage]
    tokens: int  # our count of the whole prompt
    trimmed: bool  # True when a passage was cut or left out to fit


def passage_block(number: int, passage: Passage) -> str:
    return f"[{number}] {passage.title}\n{passage.text}"


def build_prompt(
    question: str,
    passages: list[Passage],
    history: list[Turn] | None = None,
    context: int = 4096,
    answer_tokens: int = 400,
) -> Prompt:
    """Fit as many passages (best first) as the budget allows; the last one may be cut at a
    sentence end. The question and the rules are never cut."""
    turns = list(history or [])[-HISTORY_TURNS:]
    conversation = [
        message
        for turn in turns
        for message in (
            {"role": "user", "content": turn.question},
            {"role": "assistant", "content": turn.answer},
        )
    ]
    budget = int(context * SAFETY) - answer_tokens
    fixed = (
        count_tokens(SYSTEM)
        + count_tokens(question)
        + sum(count_tokens(m["content"]) for m in conversation)
        + TEMPLATE_TOKENS_PER_MESSAGE * (2 + len(conversation))
        + 20  # "Passages:" and "Question:" framing
    )
    room = budget - fixed
    kept: list[Passage] = []
    trimmed = False
    for passage in passages:
        cost = count_tokens(passage_block(len(kept) + 1, passage)) + 2
        if cost <= room:
            kept.append(passage)
            room -= cost
            continue
        trimmed = True
        cut = _cut(passage, room)
        if cut is not None:
            kept.append(cut)
        break
    blocks = "\n\n".join(passage_block(i, p) for i, p in enumerate(kept, start=1))
    user = f"Passages:\n\n{blocks}\n\nQuestion: {question}"
    messages = [{"role": "system", "content": SYSTEM}, *conversation]
    messages.append({"role": "user", "content": user})
    tokens = sum(count_tokens(m["content"]) for m in messages) + TEMPLATE_TOKENS_PER_MESSAGE * len(
        messages
    )
    return Prompt(messages, kept, tokens, trimmed)


def _cut(passage: Passage, room: int) -> Passage | None:
    """The passage up to the last whole sentence that fits in ``room`` tokens, or None."""
    if room < MIN_PASSAGE_TOKENS:
        return None
    header = count_tokens(f"[9] {passage.title}\n") + 2
    end = 0
    for _, b in split_sentences(passage.text):
        if count_tokens(passage.text[:b]) + header > room:
            break
        end = b
    if end == 0:
        return None
    text = passage.text[:end]
    if count_tokens(text) < MIN_PASSAGE_TOKENS:
        return None
    return replace(passage, text=text, end=passage.start + end)
