"""Durable background work: the TaskQueue port, its SQLite adapter, the task registry, workers."""
