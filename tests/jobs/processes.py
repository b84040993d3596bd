"""`mnemo serve` and `mnemo worker` as real child processes that a test may kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers.servers import free_port, wait_until_up

REPO_ROOT = Path(__file__).resolve().parents[2]


class MnemoProcess:
    """One mnemo command as a child process, with tests/ importable (for task type modules)."""

    def __init__(self, args: list[str], data_dir: Path, env: dict[str, str]) -> None:
        full_env = {
            **os.environ,
            "MNEMO_DATA_DIR": str(data_dir),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            **env,
        }
        mnemo = Path(sys.executable).with_name("mnemo")
        self.proc = subprocess.Popen([str(mnemo), *args], env=full_env)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or the OOM killer."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, then wait; a process that ignores it is killed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(data_dir: Path, env: dict[str, str]) -> tuple[MnemoProcess, str]:
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = MnemoProcess(args, data_dir, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc=server.proc)
    except BaseException:
        server.stop()
        raise
    return server, url


def start_worker(data_dir: Path, env: dict[str, str], concurrency: int) -> MnemoProcess:
    args = ["worker", "--concurrency", str(concurrency), "--log-level", "warning"]
    return MnemoProcess(args, data_dir, env)
