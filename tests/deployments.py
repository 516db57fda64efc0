"""The places a class grades, built for real on this machine: a throwaway normal user (an
instructor on a shared server) and a stand-in Gradescope container without bubblewrap.

Both need root to build (useradd, mount). Where this machine cannot build one, the tests that
need it are skipped with the reason, except when REQUIRE_ALL_MODES is set (CI): then missing
a deployment is a failure, so that CI never passes with a mode untested.
"""

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT

ROOT = REPO_ROOT
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def tool(name: str) -> str | None:
    """A system command's path, looked up in the sbin folders too (often not on a user's PATH)."""
    return shutil.which(name, path=SYSTEM_PATH)


def unavailable(reason: str):
    """Skip, or fail where every mode must be tested (REQUIRE_ALL_MODES=1, as .ci/run sets)."""
    if os.environ.get("REQUIRE_ALL_MODES"):
        pytest.fail(f"a deployment mode cannot be tested here: {reason}")
    pytest.skip(reason)


def bubblewrap_works() -> bool:
    return (
        shutil.which("bwrap") is not None
        and subprocess.run(["bwrap", "--ro-bind", "/", "/", "true"], capture_output=True).returncode == 0
    )


# ---------------------------------------------------------------- a normal user --------------


@contextmanager
def throwaway_user():
    """A new Unix user with a home folder; afterwards its processes are killed and it is removed.

    The user runs this checkout's virtual environment, so its interpreter must be one every user
    can run (a venv built from /usr/bin/python3, as .ci/run builds it) and the checkout readable.
    """
    if os.geteuid() != 0 or not tool("useradd") or not tool("runuser"):
        unavailable("creating a throwaway user needs root and useradd")
    name = f"gr{secrets.token_hex(4)}"
    subprocess.run([tool("useradd"), "--create-home", "--shell", "/bin/sh", name], check=True, capture_output=True)
    try:
        user = pwd.getpwnam(name)
        probe = run_as(name, [sys.executable, "-c", "import numpy, autograder"], cwd=user.pw_dir)
        if probe.returncode != 0:
            unavailable(
                f"{sys.executable} or this checkout cannot be used by another user "
                f"(build the venv from a Python every user can run): {probe.stderr.strip()[-300:]}"
            )
        yield user
    finally:
        subprocess.run([tool("pkill") or "pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run([tool("userdel"), "--remove", name], capture_output=True)


def run_as(user: str, command: list, **options) -> subprocess.CompletedProcess:
    """Run `command` as `user` with a login-like environment (no variable of root's)."""
    home = pwd.getpwnam(user).pw_dir
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": user,
        "LANG": "C.UTF-8",
        **options.pop("env", {}),
    }
    return subprocess.run(
        [tool("runuser"), "-u", user, "--", *map(str, command)], env=env, capture_output=True, text=True, **options
    )


def give(path: Path, user) -> None:
    """Make `user` the owner of everything under `path`."""
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, user.pw_uid, user.pw_gid)


# ---------------------------------------------------------------- a Gradescope container -----


def minimal_venv(folder: Path) -> Path:
    """A venv holding only what the Gradescope bundle installs (numpy, h5py, tqdm); returns its python."""
    import h5py
    import numpy
    import tqdm

    venv.create(folder, with_pip=False)
    site = folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for module in (numpy, h5py, tqdm):
        source = Path(module.__file__).parent
        for part in (source, source.with_name(source.name + ".libs")):  # .libs: the wheels' shared libraries
            if part.exists():
                shutil.copytree(part, site / part.name, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / "bin" / "python"


def path_without_bubblewrap(folder: Path) -> str:
    """A PATH with every command of /usr/bin and /bin except bwrap, as in a container without it."""
    folder.mkdir(parents=True, exist_ok=True)
    for top in ("/usr/bin", "/bin"):
        for tool in os.listdir(top):
            if tool != "bwrap" and not (folder / tool).exists():
                (folder / tool).symlink_to(Path(top) / tool)
    return str(folder)


class Container:
    """A stand-in for Gradescope's container: root, no bubblewrap on PATH, Debian's python in a venv
    with only what the bundle installs, and /autograder holding the bundle.

    A container's filesystem holds its image and /autograder only, while this machine's holds
    scratch and work folders (other checkouts of this course among them). So grading happens in
    a private mount namespace where the stand-in is mounted at /mnt and every top-level folder
    but the system's (/usr, /etc, /var, ...) is empty, /tmp and /var/tmp included: what the
    learner's uid can still find is what a real container would show it.
    """

    MOUNT = Path("/mnt")
    IMAGE = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys", "run", "var", "mnt"}

    def __init__(self, assignment: str):
        if os.geteuid() != 0 or not tool("unshare") or not self.MOUNT.is_dir():
            unavailable("a stand-in container needs root, unshare and an empty /mnt")
        self.top = Path(tempfile.mkdtemp(prefix="gradescope-"))
        self.top.chmod(0o755)
        bundle = self.top / "autograder.zip"
        subprocess.run(
            [sys.executable, "-m", "autograder", "gradescope", assignment, "-o", str(bundle)],
            check=True,
            capture_output=True,
        )
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(self.top / "autograder" / "source")
        shutil.copy(self.top / "autograder" / "source" / "run_autograder", self.top / "autograder" / "run_autograder")
        (self.top / "autograder" / "run_autograder").chmod(0o755)
        minimal_venv(self.top / "venv")
        self.path = path_without_bubblewrap(self.top / "bin")

    def grade_all(self, notebooks: dict[str, Path], out: Path, wrapper: str, report: Path, options: str = "") -> None:
        """Grade each notebook ({name: file}) in a fresh /autograder/submission, as one container
        per submission; copy each results.json (and the run's log) to out/<name>.json. `wrapper`
        runs the whole loop and writes to `report` what the loop left running."""
        inside = self.top / "work"
        (inside / "corpus").mkdir(parents=True)
        (inside / "out").mkdir()
        for name, path in notebooks.items():
            shutil.copy(path, inside / "corpus" / f"{name}.ipynb")
        (inside / "driver.py").write_text(DRIVER)
        inside.chmod(0o700)
        mnt = self.MOUNT
        # A container has its image and /autograder: every other top-level folder of this machine
        # (home folders, work folders, other checkouts of this course) is an empty tmpfs there.
        hidden = [
            str(path)
            for path in sorted(Path("/").iterdir())
            if path.is_dir() and not path.is_symlink() and path.name not in self.IMAGE
        ] + ["/var/tmp"]
        script = " && ".join(
            [f"{tool('mount')} --bind {self.top} {mnt}"]
            + [
                f"{tool('mount')} -t tmpfs -o mode={'1777' if folder in ('/tmp', '/var/tmp') else '0755'},size=512m "
                f"tmpfs {folder}"
                for folder in hidden
            ]
            + [
                f'exec {mnt}/venv/bin/python -c "$WRAPPER" {mnt}/work/report.json {mnt}/venv/bin/python '
                f"{mnt}/work/driver.py {mnt}/autograder {mnt}/work/corpus {mnt}/work/out"
            ]
        )
        env = {
            "PATH": f"{mnt}/bin",
            "AUTOGRADER_ROOT": f"{mnt}/autograder",
            "AUTOGRADER_PYTHON": f"{mnt}/venv/bin/python",
            "WRAPPER": wrapper,
            "LANG": "C.UTF-8",
            "HOME": "/root",
            "AUTOGRADER_GRADE_OPTIONS": options,
        }
        subprocess.run(
            [tool("unshare"), "--mount", "--propagation", "private", "/bin/sh", "-c", script],
            env=env,
            check=True,
            timeout=900,
            cwd="/",
        )
        shutil.copytree(inside / "out", out, dirs_exist_ok=True)
        shutil.copy(inside / "report.json", report)

    def close(self) -> None:
        shutil.rmtree(self.top, ignore_errors=True)


# Run inside the stand-in: one run_autograder per notebook, each in a fresh submission folder.
DRIVER = r"""
import shutil, subprocess, sys
from pathlib import Path
root, corpus, out = map(Path, sys.argv[1:4])
for notebook in sorted(corpus.glob("*.ipynb")):
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    shutil.copy(notebook, root / "submission" / notebook.name)
    log = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True)
    (out / f"{notebook.stem}.log").write_text(log.stdout + log.stderr)
    shutil.copy(root / "results" / "results.json", out / f"{notebook.stem}.json")
"""
