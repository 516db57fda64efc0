"""Run nbgrader's command line from this Python environment."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def run_nbgrader(args: list[str], cwd: Path, own_config_only: bool = False) -> subprocess.CompletedProcess:
    """`nbgrader ARGS` in course folder `cwd`, with this interpreter, output captured.

    nbgrader starts the `alembic` command by name to set up its gradebook, so the folder of
    this interpreter's scripts goes first on PATH: the venv need not be activated.

    own_config_only: read only `cwd`'s nbgrader_config.py, with `cwd` as the course root. A user's
    or the system's nbgrader config (~/.jupyter, JUPYTER_CONFIG_DIR, /etc/jupyter) can set
    another course root, and nbgrader would then write there: the build never lets it.
    """
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    command = [sys.executable, "-m", "nbgrader", *args]
    if not own_config_only:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    with tempfile.TemporaryDirectory(prefix="nbgrader-home-") as home:
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(name, None)
        # JUPYTER_NO_CONFIG leaves one empty config folder on Jupyter's search path; HOME hides ~/.jupyter.
        env.update(JUPYTER_NO_CONFIG="1", HOME=home, JUPYTER_CONFIG_DIR=home)
        command.append(f"--CourseDirectory.root={Path(cwd).resolve()}")
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
