"""Follow-up rules (qa.pipeline.conversation) on made-up conversations, with the hash embedder."""

from __future__ import annotations

from typing import Any

import pytest

from qa import Assistant, Filters, Turn
from qa.pipeline.conversation import topic_turns, within

ARTICLES = {
    "mouse.md": (
        "# Mickey Mouse\n\n"
        "Mickey Mouse is the most famous mouse in the world. Walt Disney drew Mickey Mouse in "
        "1928 in California. Mickey was a clean mouse from the beginning, and children loved "
        "the mouse because the mouse was funny."
    ),
    "keeper.md": (
        "# The lighthouse keeper\n\n"
        "The old lighthouse keeper created a garden on the cliff. He created it in 1950. The "
        "garden he created is still there, and visitors say who created it matters less than "
        "the view of the sea."
    ),
    "bridge.md": (
        "# New bridge\n\n"
        "The new bridge over the Vale river opened in May. It is 420 metres long and carries "
        "a tram line. Engineers from Delft designed the bridge."
    ),
}


@pytest.fixture
def chat(assistant: Assistant, write: Any) -> Assistant:
    for name, text in ARTICLES.items():
        write(name, text)
    assert assistant.ingest([write.base]).ok
    return assistant


def top_title(assistant: Assistant, question: str, history: list[Turn] | None = None) -> str:
    reply = assistant.ask(question, history=history)
    return reply.citations[0].title if reply.citations else reply.passages[0].title


def test_pronoun_follow_up_stays_on_the_conversations_article(chat: Assistant) -> None:
    first = chat.ask("Who is the most famous mouse in the world?")
    assert first.citations[0].title == "Mickey Mouse"
    follow_up = "Who created him?"
    assert top_title(chat, follow_up) == "The lighthouse keeper", "alone it goes elsewhere"
    reply = chat.ask(follow_up, history=[Turn.of(first)])
    assert reply.passages[0].title == "Mickey Mouse"
    assert reply.passages[0].rank == 1
    # The other article stays among the passages, as possibly related, ranked after.
    assert [p.title for p in reply.passages].count("Mickey Mouse") >= 1


def test_the_questions_together_name_the_subject(chat: Assistant) -> None:
    """An earlier answer from the wrong article does not drag the conversation there."""
    wrong = Turn("Who drew the famous mouse?", "The old lighthouse keeper created a garden.")
    assert top_title(chat, "When did he do that?", [wrong]) == "Mickey Mouse"


def test_topic_switch_leaves_the_old_article(chat: Assistant) -> None:
    first = chat.ask("Who is the most famous mouse in the world?")
    history = [Turn.of(first), Turn.of(chat.ask("Who created him?", [Turn.of(first)]))]
    question = "Which engineers designed the new bridge over the Vale river?"
    switched = chat.ask(question, history=history)
    assert switched.citations[0].title == "New bridge"
    assert switched == chat.ask(question), "a question that stands alone keeps its answer"


def test_standalone_question_on_the_same_article_keeps_its_answer(chat: Assistant) -> None:
    first = chat.ask("Who is the most famous mouse in the world?")
    question = "In which year did Walt Disney draw Mickey Mouse in California?"
    assert chat.ask(question, history=[Turn.of(first)]) == chat.ask(question)


def test_question_pairs_without_answers_still_work(chat: Assistant) -> None:
    """History as (question, answer) pairs, or an abstained turn with no answer text."""
    history = [("Who is the most famous mouse in the world?", "")]
    assert top_title(chat, "Who created him?", history) == "Mickey Mouse"  # type: ignore[arg-type]


def test_within_narrows_the_users_filters() -> None:
    assert within(None, ("a",)) == Filters(article_ids=("a",))
    # ids and titles are one condition ("either"): the subject, found within it, replaces it
    assert within(Filters(titles=("T",)), ("a",)) == Filters(article_ids=("a",))
    assert within(Filters(titles=("T",), date_from="2024-01-01"), ("a", "b")) == Filters(
        article_ids=("a", "b"), date_from="2024-01-01"
    )
    assert within(Filters(article_ids=("a", "b")), ("b",)) == Filters(article_ids=("b",))
    assert within(Filters(article_ids=("c",)), ("a",)) is None  # the user excluded the subject


def test_asking_for_more_stays_on_the_conversations_article(chat: Assistant) -> None:
    """ "Anything else?" names nothing to search for: "else", "another" and "other" lean on the
    conversation as a pronoun does (on CoQA such turns had left their story for another)."""
    first = chat.ask("Who is the most famous mouse in the world?")
    for follow_up in ("Anything else?", "Name another please.", "Any other visitors?"):
        reply = chat.ask(follow_up, history=[Turn.of(first)])
        assert reply.passages[0].title == "Mickey Mouse", follow_up


def test_a_follow_up_within_the_users_titles_stays_on_its_subject(chat: Assistant) -> None:
    """The user's ids and titles are one condition (an article matching either is kept): the
    subject narrows it, rather than joining it and widening the search to the other titles."""
    from qa.pipeline.conversation import retrieve

    filters = Filters(titles=("Mickey Mouse", "The lighthouse keeper"))
    first = chat.ask("Who is the most famous mouse in the world?", filters=filters)
    assert first.citations[0].title == "Mickey Mouse"
    found = retrieve(
        "Who created him?", [Turn.of(first)], chat.retriever, chat.embedder, 5, filters
    )
    assert found.follow_up
    assert {p.title for p in found.passages} == {"Mickey Mouse"}


def test_the_subject_is_read_from_the_last_question_that_named_a_new_topic() -> None:
    mongol = [
        Turn("Who founded the Mongol Empire?", "Temujin did.", "khan"),
        Turn("When was he born?", "In 1162.", "khan"),
    ]
    tesla = [
        Turn("Who was Tesla?", "An inventor.", "tesla"),
        Turn("When was he born?", "", "tesla"),
    ]
    assert topic_turns(mongol + tesla) == tesla
    # A question naming nothing that was answered from another article (a wrong answer, most
    # likely) moved nothing on purpose; an abstention (no article) neither.
    for drifted in ("Why was he there?", "Were any people harmed?"):
        leaning = [*mongol, Turn(drifted, "In 1856.", "tesla")]
        assert topic_turns(leaning) == leaning
    abstained = [*mongol, Turn("Who was Tesla?")]
    assert topic_turns(abstained) == abstained
