"""Offline memory extraction: facts, slots, dates and summaries from conversation turns."""
