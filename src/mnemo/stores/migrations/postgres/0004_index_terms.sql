-- Keyword search over mnemo's own index terms (retrieval/text.py: stemmed, stopwords dropped)
-- instead of the 'english' tsvector, so both stores match the same terms and BM25 is
-- computed by retrieval/bm25.py over the search scope. Message memories also get a context
-- window (the turns around them, retrieval/documents.py) with its own terms and embedding,
-- written in the background once the neighbours are known.
--   terms              space-separated index terms of the memory's index text, repeats kept
--                      (NULL on rows from before this migration until the store backfills them)
--   context_terms      the same for the context window (NULL: no window, the memory is its own)
--   context_embedding  embedding of the context window (NULL: none yet)
--   context_neighbours ids of the turns right before and after it
--   term_set           the distinct terms of both, for the GIN index (&& matches any term)
ALTER TABLE memories ADD COLUMN terms text;
ALTER TABLE memories ADD COLUMN context_terms text;
ALTER TABLE memories ADD COLUMN context_embedding vector({{dimension}});
ALTER TABLE memories ADD COLUMN context_neighbours jsonb;
ALTER TABLE memories ADD COLUMN term_set text[] GENERATED ALWAYS AS (
    array_remove(string_to_array(coalesce(terms, '') || ' ' || coalesce(context_terms, ''), ' '), '')
) STORED;
CREATE INDEX memories_terms ON memories USING gin (term_set);
DROP INDEX memories_tsv;
ALTER TABLE memories DROP COLUMN tsv;
-- Finds the rows the store still has to backfill, instantly once there are none.
CREATE INDEX memories_terms_missing ON memories (namespace) WHERE terms IS NULL;
