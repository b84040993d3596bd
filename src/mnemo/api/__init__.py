"""HTTP surface: the native API (seed 001) and the other seeds' dialects."""
