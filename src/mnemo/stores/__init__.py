"""Storage adapters behind the Store port: SQLite (embedded default) and PostgreSQL."""
