"""Durable background work: the TaskQueue port, its SQLite and PostgreSQL adapters, the task
registry, workers."""
