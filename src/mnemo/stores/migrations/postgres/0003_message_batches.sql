-- mnemo schema v3 (PostgreSQL): the message batcher (seed 004), buffers that survive a restart.
-- The same tables as SQLite's 0003. A key is (namespace, user_id, session_id); '' stands for
-- "no session", so keys compare equal. Pending messages have no batch_id; sealing a batch gives
-- its messages the batch's id, and once the batch's add-memory task is queued they are dropped
-- (the task's payload holds them). Appends to one key are serialised by an advisory lock.
CREATE TABLE message_batch_items (
    namespace  text NOT NULL,
    seq        bigserial NOT NULL,
    user_id    text NOT NULL,
    session_id text NOT NULL DEFAULT '',
    id         text NOT NULL,
    role       text NOT NULL,
    content    text NOT NULL,
    created_at double precision NOT NULL,
    batch_id   text,
    PRIMARY KEY (namespace, seq)
);
CREATE INDEX message_batch_items_pending ON message_batch_items (namespace, user_id, session_id, seq)
    WHERE batch_id IS NULL;
CREATE INDEX message_batch_items_batch ON message_batch_items (namespace, batch_id, seq)
    WHERE batch_id IS NOT NULL;

-- One row per flush, kept as the key's delivery log; task_id is NULL until the task is queued.
CREATE TABLE message_batches (
    namespace  text NOT NULL,
    id         text NOT NULL,
    user_id    text NOT NULL,
    session_id text NOT NULL DEFAULT '',
    size       integer NOT NULL,
    sealed_at  double precision NOT NULL,
    task_id    text,
    queued_at  double precision,
    PRIMARY KEY (namespace, id)
);
CREATE INDEX message_batches_key ON message_batches (namespace, user_id, session_id, sealed_at);
CREATE INDEX message_batches_unqueued ON message_batches (sealed_at) WHERE task_id IS NULL;
