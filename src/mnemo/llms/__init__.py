"""LLM port, its OpenAI-compatible adapter, token accounting and mnemo's prompts."""
