"""The example agent loop runs offline against a real `mnemo serve` and remembers the move."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.servers import serve_in_subprocess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_loop.py"


def test_agent_loop_remembers_the_latest_city(tmp_path: Path) -> None:
    with serve_in_subprocess(tmp_path) as url:
        run = subprocess.run(
            [sys.executable, str(EXAMPLE)], env={**os.environ, "MNEMO_BASE_URL": url},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    last_answer = run.stdout.strip().splitlines()[-1]
    assert "Porto" in last_answer and "peanuts" in last_answer
    assert "Lisbon" not in last_answer  # superseded by the move
