"""Credentials and tenancy: API keys, who a caller is, and what they may touch."""
