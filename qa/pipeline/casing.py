"""Names in a question typed in lower case: "what is the population of tokyo" names Tokyo.

The embedder and the reader are uncased, so a question typed in lower case finds and reads the
same passages. But the name rules (``qa.pipeline.reader.names``: a name no article mentions,
a name the quoted article never mentions, a misspelled name) read capitalised words, and a
question typed in lower case named nothing to them: "what is the capital of france" quoted
Warsaw, "when was tesle born" Genghis Khan's birth, where the same questions capitalised
abstain. Measured before this module (`python benchmarks/quality_research/lowercase_cost.py
--half even`), lower case answered as well but abstained correctly on left-out articles .053 /
.078 / .021 less often (SQuAD / NYT / Amazon).

``cased`` gives such a question its names back, as the evidence writes them:

- a word the passages read write past a sentence's start more often capitalised than in lower
  case is a name ("france": "... the border with France ...");
- a word they never write and no article mentions is a name when English text usually writes
  it capitalised: the capitalised form is fewer tokens of the chunker's tiktoken vocabulary
  (cl100k, learnt from web text), or as many with a more frequent first token (" Tokyo" is one
  token, " tokyo" three; " population" and " bread" are more frequent in lower case). A word
  some article mentions but no passage read writes is left as typed: the vocabulary's guess
  would then weigh against the quoted article (qa.pipeline.reader: a name it never mentions).

Only a question whose words past the first carry no capital letter is cased: a question that
writes its names already says which words are names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from qa.lexical import STOPWORDS
from qa.pipeline.spelling import written_names
from qa.pipeline.tokens import get_encoding

# A word past the question's first, as the name rules read words (qa.pipeline.conversation.NAME).
_LATER_WORD = re.compile(r"(?<=\w\s)[^\W\d_][\w'-]*")
_LOWER_WORD = re.compile(r"\b[a-z][\w'-]*")
_I = frozenset(("I", "I'm", "I've", "I'd", "I'll", "I’m", "I’ve", "I’d", "I’ll"))


def typed_lower(question: str) -> bool:
    """True when no word past the question's first carries a capital letter ("I" aside: "how
    do I get there" is typed in lower case too)."""
    return not any(
        any(c.isupper() for c in word) and word not in _I for word in _LATER_WORD.findall(question)
    )


def usually_capitalised(word: str) -> bool:
    """Whether English text usually writes ``word`` (lower case) capitalised, by the tiktoken
    vocabulary: " Tokyo" is one token and " tokyo" three; " france" and " France" one each, the
    capitalised one far more frequent (a lower rank)."""
    encoding = get_encoding()
    lower = encoding.encode_ordinary(" " + word)
    upper = encoding.encode_ordinary(" " + word[:1].upper() + word[1:])
    return (len(upper), upper[0]) < (len(lower), lower[0])


def cased(
    question: str,
    texts: Iterable[str],
    unmentioned: Callable[[list[str]], Iterable[str]] | None = None,
) -> str:
    """``question`` with its names written capitalised, when typed in lower case (see the
    module's docstring): the words ``texts`` (the passages read) write capitalised, and the
    words they never write that English text usually capitalises and that ``unmentioned``
    (which of some words no article mentions; None: none does) says no article mentions."""
    if not typed_lower(question):
        return question
    capitalised: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for text in texts:
        capitalised.update(name.lower() for name in written_names([text]))
        lower.update(_LOWER_WORD.findall(text))
    named: set[str] = set()
    unseen: list[str] = []
    for word in dict.fromkeys(w.lower() for w in _LATER_WORD.findall(question)):
        if word in STOPWORDS:
            continue
        up, down = capitalised[word], lower[word]
        if up + down:
            if up > down:
                named.add(word)
        elif usually_capitalised(word):
            unseen.append(word)
    if unseen:
        named.update(unseen if unmentioned is None else unmentioned(unseen))

    def name_of(match: re.Match[str]) -> str:
        word = match.group()
        return word[:1].upper() + word[1:] if word.lower() in named else word

    return _LATER_WORD.sub(name_of, question)
