-- Keyword search over mnemo's own index terms (retrieval/text.py: stemmed, stopwords dropped)
-- instead of FTS5's porter tokenizer over the raw text, so both stores match the same terms
-- and BM25 is computed by retrieval/bm25.py over the search scope. Message memories also
-- get a context window (the turns around them, retrieval/documents.py) with its own terms
-- and embedding, written in the background once the neighbours are known.
--   terms              space-separated index terms of the memory's index text, repeats kept
--                      (NULL on rows from before this migration until the store backfills them)
--   context_terms      the same for the context window (NULL: no window, the memory is its own)
--   context_embedding  float32 embedding of the context window (NULL: none yet)
--   context_neighbours JSON array of the ids of the turns right before and after it
ALTER TABLE memories ADD COLUMN terms TEXT;
ALTER TABLE memories ADD COLUMN context_terms TEXT;
ALTER TABLE memories ADD COLUMN context_embedding BLOB;
ALTER TABLE memories ADD COLUMN context_neighbours TEXT;

DROP TRIGGER memories_fts_insert;
DROP TRIGGER memories_fts_delete;
DROP TRIGGER memories_fts_update;
DROP TABLE memories_fts;

-- A copy of the terms in the FTS table itself, not an external-content table over memories:
-- the terms columns sit behind the embedding blobs in a memory row, so reading them there
-- walks overflow pages (find_candidates: 13 ms on a LoCoMo conversation, 3.4 ms so). detail=none:
-- only which rows hold a term is indexed (BM25's tf is counted from the stored terms).
CREATE VIRTUAL TABLE memory_terms USING fts5(
    terms, context_terms, tokenize='unicode61 remove_diacritics 0', detail=none
);
CREATE TRIGGER memory_terms_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memory_terms (rowid, terms, context_terms)
    VALUES (new.rowid, new.terms, new.context_terms);
END;
CREATE TRIGGER memory_terms_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memory_terms WHERE rowid = old.rowid;
END;
CREATE TRIGGER memory_terms_update AFTER UPDATE OF terms, context_terms ON memories BEGIN
    UPDATE memory_terms SET terms = new.terms, context_terms = new.context_terms
    WHERE rowid = new.rowid;
END;
INSERT INTO memory_terms (rowid, terms, context_terms)
SELECT rowid, terms, context_terms FROM memories;
-- Finds the rows the store still has to backfill, instantly once there are none.
CREATE INDEX memories_terms_missing ON memories (namespace) WHERE terms IS NULL;
