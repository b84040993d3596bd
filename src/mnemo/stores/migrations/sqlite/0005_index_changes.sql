-- A log of memory rows whose scope columns changed or that were deleted, so every process's
-- in-memory vector index (stores/vector_index.py) can follow writes made by other processes
-- (mnemo worker, the CLI) as well as its own. Inserts need no entry: row ids only grow.
-- The store prunes old entries; an index that fell behind the pruned part rescans.
CREATE TABLE index_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    row INTEGER NOT NULL
);

CREATE TRIGGER memories_scope_changed
AFTER UPDATE OF namespace, user_id, session_id, agent_id, memory_type, status, expires_at
ON memories
BEGIN
    INSERT INTO index_changes (row) VALUES (new.rowid);
END;

CREATE TRIGGER memories_deleted
AFTER DELETE ON memories
BEGIN
    INSERT INTO index_changes (row) VALUES (old.rowid);
END;
