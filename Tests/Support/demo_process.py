"""`flashsale demo` as the Python tests (Tests/Browser, Tests/Adversary) run it: on a free
loopback port, in a process group of its own, waited for with a bound and stopped whole."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Straight to the local server, whatever proxy the environment names.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def bin_folder():
    """$FLASHSALE_BIN, else the debug build's folder."""
    if os.environ.get("FLASHSALE_BIN"):
        return Path(os.environ["FLASHSALE_BIN"])
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return Path(out.strip())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, interval=0.05):
    """Polls `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class DemoProcess:
    """`flashsale demo --data DATA …ARGS` on a free port, its output in LOG; raises
    AssertionError unless it answers `/api/time` within 15 s."""

    def __init__(self, bin, data, log_path, *args):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [Path(bin) / "flashsale", "demo", "--data", data, "--root", ROOT, "--bin", bin,
                 "--host", "127.0.0.1", "--port", str(self.port), *map(str, args)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"flashsale demo exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with LOCAL.open(f"{self.base}/api/time", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        if not wait_until(answers, timeout=15, interval=0.1):
            self.stop()
            raise AssertionError(f"flashsale demo did not answer /api/time within 15 s:\n{self.log_text()}")

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        """SIGTERM to the demo's process group (lighttpd and the functions too), then SIGKILL."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
