"""An agent loop with long-term memory, fully offline: mnemo remembers, the 'agent' answers.

Start the server (`make run`), then: `.venv/bin/python examples/agent_loop.py`.
The agent here is a stand-in for your LLM: it answers from the memories mnemo returns, so
the loop runs with no model and no network. Swap `answer()` for a real model call.
"""

from __future__ import annotations

import os
import sys

from mnemo_client import Client

USER = "demo-user"
CONVERSATION = [
    ("monday", "Hi! I'm Dana and I live in Lisbon."),
    ("monday", "I'm allergic to peanuts, please remember that."),
    ("tuesday", "I moved to Porto last week."),
    ("friday", "Where do I live now, and what should I avoid eating?"),
]


def answer(question: str, memories: list[str]) -> str:
    """A stand-in for the LLM: quote what memory says, or admit not knowing."""
    del question  # a real model would read it
    if not memories:
        return "I don't know yet."
    return "From what I remember: " + "; ".join(memories[:3])


def main() -> int:
    base_url = os.environ.get("MNEMO_BASE_URL", "http://127.0.0.1:8000")
    with Client(
        base_url=base_url, api_key=os.environ.get("MNEMO_API_KEY", "dev-key-12345")
    ) as client:
        history: dict[str, list[dict[str, str]]] = {}
        for day, text in CONVERSATION:
            session = f"{USER}-{day}"
            turns = history.setdefault(session, [])
            turns.append({"role": "user", "content": text})
            # wait=True: facts are extracted before we ask, so the next turn can use them
            client.working_memory.put(session, messages=turns, user_id=USER, wait=True)
            found = client.memories.search(
                text, user_id=USER, memory_type={"any": ["semantic", "episodic"]}, limit=3
            )
            reply = answer(text, [m.text for m in found.memories])
            turns.append({"role": "assistant", "content": reply})
            client.working_memory.put(session, messages=turns, user_id=USER)
            print(f"[{day}] user: {text}\n[{day}] agent: {reply}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
