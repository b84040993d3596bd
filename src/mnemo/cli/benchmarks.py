"""`mnemo bench ...`: the benchmark harnesses of the source checkout, run as commands."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import typer

bench_app = typer.Typer(
    help="Run mnemo's benchmarks (from a source checkout).", no_args_is_help=True
)
# src/mnemo/cli/benchmarks.py -> the checkout's bench/ (mnemo is installed editable by make).
BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def run_harness(script: str, args: list[str]) -> None:
    """Run bench/<script> with these arguments, as `python bench/<script> ...` would."""
    path = BENCH_DIR / script
    if not path.is_file():
        typer.echo(
            f"error: {path} not found; the benchmarks ship with mnemo's source checkout "
            "(git clone, then `make install`)",
            err=True,
        )
        raise typer.Exit(2)
    sys.argv = [str(path), *args]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as done:
        raise typer.Exit(int(done.code or 0)) from None


@bench_app.command("locomo", context_settings=_PASS_THROUGH)
def locomo(ctx: typer.Context) -> None:
    """LoCoMo retrieval recall through the HTTP API (bench/locomo.py; --help for its options,
    e.g. --data ../shared/bench/locomo10.json --url http://127.0.0.1:8000)."""
    run_harness("locomo.py", list(ctx.args))
