-- mnemo schema v1 (PostgreSQL + pgvector). Times are epoch seconds (double precision), so the
-- shared filter compiler serves both stores; lists and objects are jsonb. {{dimension}} is
-- replaced by the configured embedding dimension when this migration is first applied.
-- Tables holding tenant data are keyed by namespace first, so they can be distributed by it
-- (Citus); meta and api_keys are small global tables (Citus reference tables).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE sessions (
    namespace        text NOT NULL,
    session_id       text NOT NULL,
    user_id          text,
    agent_id         text,
    context          text,
    data             jsonb,
    memories         jsonb NOT NULL DEFAULT '[]',
    strategy         jsonb NOT NULL DEFAULT '{}',
    tokens           integer NOT NULL DEFAULT 0,
    ttl_seconds      integer,
    expires_at       double precision,
    created_at       double precision NOT NULL,
    updated_at       double precision NOT NULL,
    last_accessed_at double precision NOT NULL,
    PRIMARY KEY (namespace, session_id)
);
CREATE INDEX sessions_user ON sessions (namespace, user_id, updated_at);

CREATE TABLE messages (
    namespace    text NOT NULL,
    session_id   text NOT NULL,
    position     integer NOT NULL,
    id           text NOT NULL,
    role         text NOT NULL,
    content      text NOT NULL,
    created_at   double precision NOT NULL,
    persisted_at double precision,
    metadata     jsonb NOT NULL DEFAULT '{}',
    extracted    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (namespace, session_id, position)
);

-- fillfactor 90 leaves room on each page so access-count updates stay HOT (no new entries
-- in the HNSW and GIN indexes). seq orders rows written in the same instant, newest last.
CREATE TABLE memories (
    namespace        text NOT NULL,
    id               text NOT NULL,
    user_id          text,
    agent_id         text,
    session_id       text,
    text             text NOT NULL,
    memory_type      text NOT NULL,
    topics           jsonb NOT NULL DEFAULT '[]',
    entities         jsonb NOT NULL DEFAULT '[]',
    metadata         jsonb NOT NULL DEFAULT '{}',
    importance       double precision NOT NULL DEFAULT 0.5,
    pinned           boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'active',
    supersedes       text,
    superseded_by    text,
    event_date       double precision,
    created_at       double precision NOT NULL,
    updated_at       double precision NOT NULL,
    last_accessed_at double precision NOT NULL,
    access_count     integer NOT NULL DEFAULT 0,
    expires_at       double precision,
    extracted_from   jsonb NOT NULL DEFAULT '[]',
    content_hash     text NOT NULL,
    embedding        vector({{dimension}}) NOT NULL,
    seq              bigserial NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (namespace, id)
) WITH (fillfactor = 90);
-- INCLUDE (expires_at) lets the count of a scope be an index-only scan.
CREATE INDEX memories_user ON memories (namespace, user_id, status) INCLUDE (expires_at);
CREATE INDEX memories_session ON memories (namespace, session_id);
CREATE INDEX memories_hash ON memories (namespace, content_hash);
CREATE INDEX memories_id ON memories (id);
CREATE INDEX memories_created ON memories (namespace, created_at DESC, seq DESC);
CREATE INDEX memories_tsv ON memories USING gin (tsv);
CREATE INDEX memories_embedding_hnsw ON memories
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);

CREATE TABLE memory_events (
    namespace text NOT NULL,
    memory_id text NOT NULL,
    seq       bigserial NOT NULL,
    event     text NOT NULL,
    old_text  text,
    new_text  text,
    actor     text NOT NULL,
    at        double precision NOT NULL,
    details   jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (namespace, memory_id, seq)
);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    prefix     text NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    name       text,
    namespace  text,
    user_id    text,
    scopes     text NOT NULL,
    rate_tier  text NOT NULL DEFAULT 'standard',
    created_at double precision NOT NULL,
    revoked_at double precision
);
