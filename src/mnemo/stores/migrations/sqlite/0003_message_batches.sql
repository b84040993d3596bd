-- mnemo schema v3 (SQLite): the message batcher (seed 004), buffers that survive a restart.
-- A key is (namespace, user_id, session_id); '' stands for "no session", so keys compare equal.
-- Pending messages have no batch_id; sealing a batch gives its messages the batch's id, and once
-- the batch's add-memory task is queued they are dropped (the task's payload holds them).
CREATE TABLE message_batch_items (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    id         TEXT NOT NULL,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at REAL NOT NULL,
    batch_id   TEXT
);
CREATE INDEX message_batch_items_pending ON message_batch_items (namespace, user_id, session_id, seq)
    WHERE batch_id IS NULL;
CREATE INDEX message_batch_items_batch ON message_batch_items (namespace, batch_id, seq)
    WHERE batch_id IS NOT NULL;

-- One row per flush, kept as the key's delivery log; task_id is NULL until the task is queued.
CREATE TABLE message_batches (
    namespace  TEXT NOT NULL,
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    size       INTEGER NOT NULL,
    sealed_at  REAL NOT NULL,
    task_id    TEXT,
    queued_at  REAL,
    PRIMARY KEY (namespace, id)
);
CREATE INDEX message_batches_key ON message_batches (namespace, user_id, session_id, sealed_at);
CREATE INDEX message_batches_unqueued ON message_batches (sealed_at) WHERE task_id IS NULL;
