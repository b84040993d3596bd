-- mnemo schema v2 (SQLite): durable tasks, webhook subscriptions and their delivery log.
-- seq orders claims fairly (insertion order among equal run_after); times are epoch seconds.
CREATE TABLE tasks (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    namespace       TEXT NOT NULL,
    type            TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    idempotency_key TEXT,
    debounce_key    TEXT,
    run_after       REAL NOT NULL,
    worker_id       TEXT,
    lease_until     REAL,
    result          TEXT,
    error           TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    started_at      REAL,
    completed_at    REAL
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (namespace, type, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_pending ON tasks (run_after, seq) WHERE status = 'pending';
CREATE INDEX tasks_leases ON tasks (lease_until) WHERE status = 'running';
CREATE INDEX tasks_debounce ON tasks (namespace, type, debounce_key)
    WHERE debounce_key IS NOT NULL AND status = 'pending';
CREATE INDEX tasks_namespace ON tasks (namespace, status, seq);

CREATE TABLE webhooks (
    namespace   TEXT NOT NULL,
    id          TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    description TEXT,
    created_at  REAL NOT NULL,
    PRIMARY KEY (namespace, id)
);

-- One row per (event, subscription); `log` is a JSON array of attempts (status code, error).
CREATE TABLE webhook_deliveries (
    namespace       TEXT NOT NULL,
    id              TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    event           TEXT NOT NULL,
    task_id         TEXT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_status INTEGER,
    error           TEXT,
    log             TEXT NOT NULL DEFAULT '[]',
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    delivered_at    REAL,
    PRIMARY KEY (namespace, id)
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (namespace, webhook_id, created_at);
