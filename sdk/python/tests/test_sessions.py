"""Conversation operations: chat, summaries and the memory prompt, offline."""

from __future__ import annotations

import pytest

from mnemo_client import AsyncClient, Client, SessionNotFoundError

TURNS = [
    {"role": "user", "content": "I am flying to Lisbon on 3 June"},
    {"role": "assistant", "content": "Noted, enjoy Lisbon!"},
]


def test_chat_answers_from_memory_and_keeps_the_turns(client: Client) -> None:
    client.working_memory.put("trip", messages=TURNS, user_id="alice", wait=True)
    reply = client.sessions.chat("trip", "Where am I flying?", user_id="alice")
    assert "Lisbon" in reply.response and reply.relevant_context_count >= 1
    assert reply.usage.total_tokens == 0  # offline: no LLM
    assert len(client.working_memory.get("trip").messages) == 4


def test_summaries_of_a_session_and_of_given_messages(client: Client) -> None:
    client.working_memory.put("trip", messages=TURNS)
    stored = client.sessions.summarize("trip", max_sentences=2)
    assert stored.session_id == "trip" and stored.message_count == 2 and stored.summary
    given = client.sessions.summarize(messages=TURNS)
    assert given.session_id is None and "Lisbon" in given.summary
    with pytest.raises(SessionNotFoundError):
        client.sessions.summarize("no-such-session")


async def test_memory_prompt_hydrates_the_query(aclient: AsyncClient) -> None:
    await aclient.working_memory.put("trip", messages=TURNS, user_id="alice")
    await aclient.memories.create([{"text": "Alice prefers window seats", "user_id": "alice"}])
    prompt = await aclient.sessions.prompt(
        "Which seat should I book?", session_id="trip", user_id="alice"
    )
    contents = " ".join(str(m.get("content")) for m in prompt.messages)
    assert "Lisbon" in contents
    assert prompt.long_term_memories is not None
    assert "Alice prefers window seats" in [m.text for m in prompt.long_term_memories]
    bare = await aclient.sessions.prompt("seats", long_term_search=False)
    assert bare.long_term_memories is None
