-- mnemo schema v1 (SQLite). Times are epoch seconds (REAL); lists and objects are JSON text.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sessions (
    namespace        TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    user_id          TEXT,
    agent_id         TEXT,
    context          TEXT,
    data             TEXT,
    memories         TEXT NOT NULL DEFAULT '[]',
    strategy         TEXT NOT NULL DEFAULT '{}',
    tokens           INTEGER NOT NULL DEFAULT 0,
    ttl_seconds      INTEGER,
    expires_at       REAL,
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    last_accessed_at REAL NOT NULL,
    PRIMARY KEY (namespace, session_id)
);
CREATE INDEX sessions_user ON sessions (namespace, user_id, updated_at);

CREATE TABLE messages (
    namespace    TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    position     INTEGER NOT NULL,
    id           TEXT NOT NULL,
    role         TEXT NOT NULL,
    content      TEXT NOT NULL,
    created_at   REAL NOT NULL,
    persisted_at REAL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    extracted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, session_id, position)
);

-- rowid is AUTOINCREMENT so it only grows: an embedding never changes under a rowid, which
-- lets the in-process vector index load new rows incrementally.
CREATE TABLE memories (
    rowid            INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace        TEXT NOT NULL,
    id               TEXT NOT NULL,
    user_id          TEXT,
    agent_id         TEXT,
    session_id       TEXT,
    text             TEXT NOT NULL,
    memory_type      TEXT NOT NULL,
    topics           TEXT NOT NULL DEFAULT '[]',
    entities         TEXT NOT NULL DEFAULT '[]',
    metadata         TEXT NOT NULL DEFAULT '{}',
    importance       REAL NOT NULL DEFAULT 0.5,
    pinned           INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'active',
    supersedes       TEXT,
    superseded_by    TEXT,
    event_date       REAL,
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    last_accessed_at REAL NOT NULL,
    access_count     INTEGER NOT NULL DEFAULT 0,
    expires_at       REAL,
    extracted_from   TEXT NOT NULL DEFAULT '[]',
    content_hash     TEXT NOT NULL,
    embedding        BLOB NOT NULL,
    UNIQUE (namespace, id)
);
CREATE INDEX memories_user ON memories (namespace, user_id, status);
CREATE INDEX memories_session ON memories (namespace, session_id);
CREATE INDEX memories_hash ON memories (namespace, content_hash);
CREATE INDEX memories_id ON memories (id);

CREATE VIRTUAL TABLE memories_fts USING fts5(
    text, content='memories', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO memories_fts (rowid, text) VALUES (new.rowid, new.text);
END;

CREATE TABLE memory_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    event     TEXT NOT NULL,
    old_text  TEXT,
    new_text  TEXT,
    actor     TEXT NOT NULL,
    at        REAL NOT NULL,
    details   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX memory_events_memory ON memory_events (namespace, memory_id, seq);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    name       TEXT,
    namespace  TEXT,
    user_id    TEXT,
    scopes     TEXT NOT NULL,
    rate_tier  TEXT NOT NULL DEFAULT 'standard',
    created_at REAL NOT NULL,
    revoked_at REAL
);
