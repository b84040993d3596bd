-- Covering indexes for the scope filter of a search: rows carry their embedding (~1.5 KB),
-- so a filter that has to visit the table reads megabytes; these answer it from the index.
CREATE INDEX IF NOT EXISTS memories_scope_user ON memories (namespace, user_id, status, expires_at);
CREATE INDEX IF NOT EXISTS memories_scope_user_only ON memories (user_id, status, expires_at);
CREATE INDEX IF NOT EXISTS memories_scope_session ON memories (session_id, status, expires_at);
CREATE INDEX IF NOT EXISTS memories_scope_namespace ON memories (namespace, status, expires_at);
