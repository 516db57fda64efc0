"""Run nbgrader's command line from this Python environment."""

import os
import subprocess
import sys
from pathlib import Path


def run_nbgrader(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`nbgrader ARGS` in course folder `cwd`, with this interpreter, output captured.

    nbgrader starts the `alembic` command by name to set up its gradebook, so the folder of
    this interpreter's scripts goes first on PATH: the venv need not be activated.
    """
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True, text=True)
