"""JupyterLab in headless Chromium, for the browser tests: a server on loopback in a temporary home,
and the few things a learner does with a notebook (open it, run cells, read what they show).

Facts and selectors checked for JupyterLab 4.6 are in shared/browser-testing.md.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
#: JupyterLab user settings for an unattended browser: no news pop-up over the page, no autosave
#: rewriting the notebooks the tests open.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell"


def chromium_executable() -> str | None:
    """Chromium from the system (Debian's package), or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Process ids of every process below `pid` (Linux /proc), so the test can check they are gone."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class JupyterLab:
    """`jupyter lab` on 127.0.0.1 serving `root`, with every Jupyter folder inside `home`."""

    def __init__(self, root: Path, home: Path):
        self.root, self.home = Path(root), Path(home)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.seen: set[int] = set()  # every process the server started (kernels, ...), for stop()

    def environment(self) -> dict:
        folders = {
            name: self.home / name.lower()
            for name in (
                "JUPYTER_CONFIG_DIR",
                "JUPYTER_DATA_DIR",
                "JUPYTER_RUNTIME_DIR",
                "IPYTHONDIR",
                "MPLCONFIGDIR",
                "TMPDIR",
            )
        }
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        settings = folders["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings"
        for name, values in USER_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "JPY_"))}
        env.update({key: str(value) for key, value in folders.items()})
        env["HOME"] = str(self.home)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return env

    def start(self, extra_env: dict | None = None) -> "JupyterLab":
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = open(self.home / "jupyterlab.log", "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
            ],
            cwd=self.root,
            env={**self.environment(), **(extra_env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer on port {self.port}:\n{self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return (self.home / "jupyterlab.log").read_text(errors="replace")

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, path: str = "") -> str:
        tree = f"/tree/{path}" if path else ""
        return f"http://127.0.0.1:{self.port}/lab{tree}?token={self.token}&reset"

    def note_processes(self) -> None:
        if self.process is not None:
            self.seen |= descendants(self.process.pid)

    def shut_down_kernels(self) -> None:
        """End every kernel the tests started (through the server, as JupyterLab's own button does)."""
        self.note_processes()
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def leftovers(self) -> list[int]:
        """Processes the server started that are still running."""
        return sorted(pid for pid in self.seen if alive(pid))

    def stop(self) -> list[int]:
        """Stop the server (and its kernels); return the ids of any of its processes that had to be killed."""
        if self.process is None:
            return []
        self.note_processes()
        if self.process.poll() is None:
            try:
                self.shut_down_kernels()
            except (urllib.error.URLError, ConnectionError):
                pass
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for _ in range(100):
            if not self.leftovers():
                break
            time.sleep(0.1)
        killed = self.leftovers()
        for pid in killed:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.log.close()
        self.process = None
        return killed


# ---- a learner's actions in the page ------------------------------------------------------------


def open_notebook(page, lab: JupyterLab, path: str, cells: int, timeout: float = 60_000) -> None:
    """Open `path` (relative to the server's root); wait for its `cells` cells and its kernel to be idle.

    The toolbar's execution indicator says idle before a kernel is attached (and cells appear a
    few at a time), so this waits for the status bar's kernel item, `<kernel name> | Idle`.
    """
    page.goto(lab.url(path))
    page.wait_for_function(
        """([selector, count]) => document.querySelectorAll(selector).length === count
            && [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
                item => / \\| Idle$/.test(item.textContent) && !item.textContent.startsWith('No Kernel'))""",
        arg=[CELLS, cells],
        timeout=timeout,
        polling=100,
    )


def menu(page, *labels: str) -> None:
    """Click through the menu bar: menu(page, "Run", "Run All Cells")."""
    exactly = lambda label: re.compile(f"^{re.escape(label)}$")
    page.locator(".lm-MenuBar-itemLabel", has_text=exactly(labels[0])).first.click()
    for label in labels[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=exactly(label)).first.click()


def run_all(page) -> None:
    menu(page, "Run", "Run All Cells")


def cell(page, index: int):
    return page.locator(CELLS).nth(index)


def run_cell(page, index: int) -> None:
    """Select cell `index` and run it with Shift+Enter, as a learner does."""
    target = cell(page, index)
    target.locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Shift+Enter")


def wait_until_executed(page, indices, timeout: float) -> None:
    """Wait until each of the code cells `indices` shows an execution count in its prompt, `[N]:`."""
    try:
        page.wait_for_function(
            """([selector, indices]) => {
                const cells = document.querySelectorAll(selector);
                return indices.every(i => cells[i] && /^\\[\\d+\\]:$/.test(
                    cells[i].querySelector('.jp-InputArea-prompt').textContent.trim()));
            }""",
            arg=[CELLS, list(indices)],
            timeout=timeout,
            polling=500,
        )
    except PlaywrightTimeout:
        prompts = page.eval_on_selector_all(
            CELLS, "cells => cells.map(c => c.querySelector('.jp-InputArea-prompt')?.textContent.trim())"
        )
        waiting = {
            i: prompts[i] if i < len(prompts) else None
            for i in indices
            if i >= len(prompts) or not re.fullmatch(r"\[\d+\]:", prompts[i] or "")
        }
        raise AssertionError(f"cells not run after {timeout / 1000:.0f} s (index: prompt): {waiting}") from None


def shown(page, index: int):
    """Cell `index`, scrolled into view (JupyterLab skips rendering cells out of view)."""
    target = cell(page, index)
    target.scroll_into_view_if_needed()
    page.wait_for_function(
        "cell => cell.querySelector('.jp-Cell-inputWrapper').checkVisibility({contentVisibilityAuto: true})",
        arg=target.element_handle(),
        polling="raf",
    )
    return target


def prompt(page, index: int) -> str:
    return shown(page, index).locator(".jp-InputArea-prompt").inner_text().strip()


def input_text(page, index: int) -> str:
    return shown(page, index).locator(".jp-InputArea-editor .cm-content").inner_text()


def output_text(page, index: int) -> str:
    """The text a cell's output area shows (stdout, results, tracebacks), as the learner reads it."""
    outputs = shown(page, index).locator(".jp-OutputArea-output")
    return "\n".join(outputs.nth(i).inner_text() for i in range(outputs.count()))


def shows_traceback(page, index: int) -> bool:
    return (
        cell(page, index).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() > 0
    )


def markdown_images(page, count: int) -> list[dict]:
    """The `count` images of the rendered markdown, once each has loaded or failed: src, naturalWidth, alt."""
    selector = f"{NOTEBOOK} .jp-RenderedMarkdown img"
    page.wait_for_function(
        """([selector, count]) => {
            const images = [...document.querySelectorAll(selector)];
            return images.length >= count && images.every(img => img.complete);
        }""",
        arg=[selector, count],
        timeout=60_000,
        polling=200,
    )
    return page.eval_on_selector_all(
        selector,
        "imgs => imgs.map(img => ({src: img.getAttribute('src'), naturalWidth: img.naturalWidth, alt: img.alt}))",
    )


def output_images(page, index: int) -> list[dict]:
    """The images in cell `index`'s output, once each has loaded or failed: naturalWidth and naturalHeight."""
    target = shown(page, index)
    target.locator(".jp-OutputArea-output img").first.wait_for(state="attached")
    page.wait_for_function(
        "cell => [...cell.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)",
        arg=target.element_handle(),
        polling=200,
    )
    return target.locator(".jp-OutputArea-output img").evaluate_all(
        "imgs => imgs.map(img => ({naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight}))"
    )


def scroll_to_top(page, index: int) -> None:
    """Scroll the notebook so that cell `index` is at the top of its panel."""
    shown(page, index).evaluate("cell => cell.scrollIntoView({block: 'start'})")
    shown(page, index)


def screenshot(page, path: Path, index: int | None = None) -> Path:
    """A picture of the page, or of cell `index` scrolled into view (JupyterLab scrolls inside its panel)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if index is None:
        page.screenshot(path=str(path))
    else:
        target = cell(page, index)
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path))
    return path
