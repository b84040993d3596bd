-- mnemo schema v2 (PostgreSQL): durable tasks, webhook subscriptions and their delivery log.
-- The same columns as SQLite's 0002 (the statements are shared): times are epoch seconds,
-- payload/result/events/log are jsonb. seq orders claims fairly (insertion order among equal
-- run_after) and lists newest first. Workers claim with FOR UPDATE SKIP LOCKED. Tasks are keyed
-- by id alone: GET /v1/tasks/{id} and every worker-side update look a task up by its id.
CREATE TABLE tasks (
    id              text PRIMARY KEY,
    seq             bigserial NOT NULL,
    namespace       text NOT NULL,
    type            text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL,
    idempotency_key text,
    debounce_key    text,
    run_after       double precision NOT NULL,
    worker_id       text,
    lease_until     double precision,
    result          jsonb,
    error           text,
    created_at      double precision NOT NULL,
    updated_at      double precision NOT NULL,
    started_at      double precision,
    completed_at    double precision
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (namespace, type, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_pending ON tasks (run_after, seq) WHERE status = 'pending';
-- Expired leases, and the live runs that keep another task of the same debounce key waiting.
CREATE INDEX tasks_leases ON tasks (lease_until, seq) WHERE status = 'running';
CREATE INDEX tasks_debounce ON tasks (namespace, type, debounce_key)
    WHERE debounce_key IS NOT NULL AND status = 'pending';
CREATE INDEX tasks_namespace ON tasks (namespace, status, seq);
CREATE INDEX tasks_seq ON tasks (seq);

CREATE TABLE webhooks (
    namespace   text NOT NULL,
    id          text NOT NULL,
    url         text NOT NULL,
    events      jsonb NOT NULL,
    secret      text NOT NULL,
    description text,
    created_at  double precision NOT NULL,
    PRIMARY KEY (namespace, id)
);

-- One row per (event, subscription); `log` is a JSON array of attempts (status code, error).
CREATE TABLE webhook_deliveries (
    namespace       text NOT NULL,
    id              text NOT NULL,
    webhook_id      text NOT NULL,
    event           text NOT NULL,
    task_id         text,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    response_status integer,
    error           text,
    log             jsonb NOT NULL DEFAULT '[]',
    created_at      double precision NOT NULL,
    updated_at      double precision NOT NULL,
    delivered_at    double precision,
    PRIMARY KEY (namespace, id)
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (namespace, webhook_id, created_at);
