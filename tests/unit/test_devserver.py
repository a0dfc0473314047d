"""`make run` stops everything it started on SIGTERM (kill, timeout, a supervisor) as on Ctrl-C."""

import subprocess
import sys

SCRIPT = """
import os, signal, time
from nexus.devserver import _stop_on_sigterm
_stop_on_sigterm()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
except KeyboardInterrupt:
    print("stopped like Ctrl-C")
"""


def test_sigterm_takes_the_ctrl_c_path():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped like Ctrl-C"
