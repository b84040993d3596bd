-- How many rows hold each index term, read straight off the FTS5 index: a namespace-wide
-- search plans its keyword probe from it (retrieval/keyword_probe.py) instead of reading
-- the tens of thousands of rows a common word matches at a million memories.
CREATE VIRTUAL TABLE memory_terms_vocab USING fts5vocab(memory_terms, 'row');
