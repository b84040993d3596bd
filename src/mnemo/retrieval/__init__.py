"""Retrieval: candidate fusion, composite scoring and ranking, independent of any store."""
