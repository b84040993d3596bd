"""The message batcher's buffers (seed 004) on SQLite and PostgreSQL: sealing, recovery, races."""

from __future__ import annotations

import asyncio

from mnemo.models import Message
from mnemo.stores.batch_store import BatchKey
from tests.jobs.backends import Backend

KEY = BatchKey("acme", "alice", "s1")


def turns(prefix: str, count: int) -> list[Message]:
    return [Message(role="user", content=f"{prefix}-{i}") for i in range(count)]


async def test_append_seals_full_batches_oldest_first_and_keeps_the_rest(
    backend: Backend,
) -> None:
    batches = backend.batches()
    first = await batches.append(KEY, turns("a", 3), batch_size=4)
    assert (first.pending, first.sealed, first.last) == (3, [], None)

    second = await batches.append(KEY, turns("b", 6), batch_size=4)
    assert second.pending == 1
    assert [[m.content for m in b.messages] for b in second.sealed] == [
        ["a-0", "a-1", "a-2", "b-0"],
        ["b-1", "b-2", "b-3", "b-4"],
    ]
    assert second.last is not None and second.last.id == second.sealed[-1].id
    assert all(b.key == KEY and b.task_id is None for b in second.sealed)

    elsewhere = await batches.append(BatchKey("acme", "alice"), turns("c", 1), batch_size=4)
    assert (elsewhere.pending, elsewhere.last) == (1, None)  # no session: a buffer of its own


async def test_sealed_batches_wait_until_their_task_is_queued(backend: Backend) -> None:
    batches = backend.batches()
    outcome = await batches.append(KEY, turns("a", 4), batch_size=2)
    early, late = outcome.sealed

    async with backend.reopen() as restarted:  # the process stopped before queueing the tasks
        unqueued = await restarted.batches().unqueued(limit=10)
    assert [(b.id, [m.content for m in b.messages]) for b in unqueued] == [
        (early.id, ["a-0", "a-1"]),
        (late.id, ["a-2", "a-3"]),
    ]
    assert unqueued[0].messages[0].id == early.messages[0].id

    await batches.mark_queued(KEY.namespace, early.id, "task-1")
    assert [b.id for b in await batches.unqueued(limit=10)] == [late.id]
    again = await batches.append(KEY, turns("b", 1), batch_size=2)
    assert again.last is not None and again.last.id == late.id


async def test_concurrent_appends_to_one_key_seal_every_message_exactly_once(
    backend: Backend,
) -> None:
    """Appends racing from two connection pools (two replicas) into one conversation."""
    sent = [turns(f"r{i}", 3) for i in range(16)]
    async with backend.reopen() as other:
        stores = [backend.batches(), other.batches()]
        outcomes = await asyncio.gather(
            *(stores[i % 2].append(KEY, messages, batch_size=4) for i, messages in enumerate(sent))
        )
    sealed = [batch for outcome in outcomes for batch in outcome.sealed]
    assert [len(b.messages) for b in sealed] == [4] * 12
    assert sorted(m.id for b in sealed for m in b.messages) == sorted(
        m.id for messages in sent for m in messages
    )
    assert len({b.id for b in sealed}) == 12
