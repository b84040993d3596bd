"""The `mnemo` command line (typer)."""
