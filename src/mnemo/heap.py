"""Keep the garbage collector off the objects a process builds once, at start-up.

A server holds a large, stable heap from the moment it starts: the tokenizer's vocabulary,
the ONNX graph's wrappers, the app's routes and pydantic schemas. CPython's full (gen 2)
collections walk all of it each time, holding the GIL: 110-155 ms pauses every few seconds
under load, measured with gc.callbacks in `bench/load.py`, in which every request in flight
waits. gc.freeze() moves what exists into a permanent generation that collections skip
(objects there are still freed by reference counting); what requests allocate is collected
as before.
"""

from __future__ import annotations

import gc

_settled = False


def settle_heap() -> None:
    """Collect start-up garbage, then freeze what is left: once per process, when its first
    app is ready (a test process starts many apps; what they leave must stay collectable)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
