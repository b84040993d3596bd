"""Embedding providers: turn text into unit-length float32 vectors."""
