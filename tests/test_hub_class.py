"""A class on a shared server, for real: JupyterHub with Unix logins, set up by deploy/setup-class.sh,
an instructor and three students (right, half done, hostile: tests/class_of_three.py) who are new
Unix users, and everyone working in Chromium.

The instructor generates and releases the assignment in Formgrader (opened in its own tab:
JupyterHub forbids framing it); each student logs in, fetches it from the Assignments panel,
sees its figures, completes it (the notebook is written as that user, then opened) and submits;
the instructor collects, autogrades each student and releases feedback, all from Formgrader;
each student fetches their feedback; `nbgrader export` has the honest scores. The hostile
student's code runs in the grader's sandbox (as the instructor, in a user namespace): her
feedback says she read and wrote nothing, and nothing of hers is in the course.

The hostile student also attacks the class: before collect she puts a folder in the exchange in
the right student's name with a later time (her notebook in it), and resubmits her own backdated
11 months (folder name, timestamp.txt, mtimes) against a due date set before anyone submitted.
Collect refuses the first (the right student keeps 100) and times the second by the file system
(late). She then tries to read her classmates' notebooks and feedback in their homes, which are
closed however the student joined the class: a member before setup (setup-class.sh closes it), a
new account after it (HOME_MODE), an account added to the group later (the hub closes it at spawn).
Formgrader's Generate, on a course whose release was removed, makes the committed release.

Needs root (useradd), bubblewrap, Chromium and configurable-http-proxy (`.ci/run` installs it in
.ci/proxy; or set HUB_PROXY); skipped otherwise. BROWSER_SCREENSHOTS=DIR keeps a picture of each step.
"""

import csv
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from class_of_three import SCORES, notebooks
from conftest import ASSIGNMENT, ROOT
from deployments import bubblewrap_works, run_as, tool, unavailable
from lab_in_browser import USER_SETTINGS, alive, chromium_executable, descendants, free_port, menu

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

PROXY = os.environ.get("HUB_PROXY") or str(ROOT / ".ci" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
VENV_BIN = Path(sys.executable).parent
TAG = secrets.token_hex(3)
INSTRUCTOR = f"h{TAG}prof"
STUDENTS = {role: f"h{TAG}{role}" for role in SCORES}  # {"right": unix name, ...}
SUBMITTED = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's, in exchange folder names and timestamp.txt
#: What setup-class.sh edits for new accounts' homes: put back once the test's accounts are made.
ACCOUNT_DEFAULTS = [Path("/etc/login.defs"), Path("/etc/adduser.conf")]
JOINS_BEFORE_SETUP, NEW_AFTER_SETUP = "right", "half"  # and hostile: an account added to the group later


class Hub:
    """JupyterHub set up by deploy/setup-class.sh in a folder of its own, with its users and groups."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="hub-class-"))
        self.base.chmod(0o755)
        self.prefix, self.exchange, self.etc = self.base / "prefix", self.base / "exchange", self.base / "etc"
        self.groups = [f"h{TAG}teach", f"h{TAG}learn"]
        self.port = free_port()
        self.users: list[str] = []
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.seen: set[int] = set()
        self.account_defaults = {path: path.read_bytes() for path in ACCOUNT_DEFAULTS if path.exists()}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add_user(self, name: str) -> Path:
        """A new Unix user with a home, a full name and a password; JupyterLab's news pop-up and autosave off."""
        full_name = f"{name.capitalize()} Tester"
        subprocess.run(
            [tool("useradd"), "--create-home", "--shell", "/bin/bash", "--comment", full_name, name], check=True
        )
        self.users.append(name)
        self.passwords[name] = secrets.token_hex(8)
        subprocess.run([tool("chpasswd")], input=f"{name}:{self.passwords[name]}\n", text=True, check=True)
        home = Path(os.path.expanduser(f"~{name}"))
        for setting, values in USER_SETTINGS.items():
            write_as(name, home / ".jupyter" / "lab" / "user-settings" / setting, json.dumps(values))
        return home

    def join_class(self, name: str) -> None:
        subprocess.run([tool("usermod"), "-a", "-G", self.groups[1], name], check=True)

    def restore_account_defaults(self) -> None:
        """Put back the machine's login.defs and adduser.conf, which setup-class.sh edited."""
        for path, content in self.account_defaults.items():
            path.write_bytes(content)

    def setup(self) -> subprocess.CompletedProcess:
        """deploy/setup-class.sh, with this checkout's venv and proxy."""
        env = {
            **os.environ,
            "PREFIX": str(self.prefix),
            "EXCHANGE": str(self.exchange),
            "CLASS_CONFIG": str(self.etc),
            "INSTRUCTORS_GROUP": self.groups[0],
            "STUDENTS_GROUP": self.groups[1],
            "SHARED_ENV": str(VENV_BIN.parent),
            "PROXY": PROXY,
            "HUB_BIND_URL": self.url("/"),
        }
        result = subprocess.run(
            ["bash", str(ROOT / "deploy" / "setup-class.sh"), INSTRUCTOR], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def start(self) -> None:
        """The hub (and its proxy) on 127.0.0.1, as the README starts it; waits until it answers."""
        hub = self.prefix / "hub"
        self.log = open(self.base / "jupyterhub.log", "w")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "jupyterhub"),
                "-f",
                str(hub / "jupyterhub_config.py"),
                f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
                f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
            ],
            cwd=hub,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "JPY_"))},
        )
        for _ in range(600):
            assert self.process.poll() is None, (self.base / "jupyterhub.log").read_text()
            try:
                urllib.request.urlopen(self.url("/hub/api/"), timeout=5).read()
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise AssertionError("the hub did not answer:\n" + (self.base / "jupyterhub.log").read_text())

    def stop(self) -> list[int]:
        """Stop the hub (it stops the users' servers and its proxy), kill by pid whatever of theirs is
        left, remove the users, groups and folders. Returns the pids that had to be killed."""
        self.restore_account_defaults()
        killed = []
        if self.process is not None:
            self.seen |= descendants(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()
        uids = {int(subprocess.run(["id", "-u", name], capture_output=True, text=True).stdout) for name in self.users}
        for _ in range(50):
            left = {pid for pid in self.seen if alive(pid)} | processes_of(uids)
            if not left:
                break
            time.sleep(0.1)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        for name in self.users:
            subprocess.run([tool("userdel"), "--remove", name], capture_output=True)
        for group in self.groups:
            subprocess.run([tool("groupdel"), group], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        return killed


def processes_of(uids: set[int]) -> set[int]:
    """Process ids of every live process owned by one of `uids`."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) in uids and alive(int(status.parent.name)):
            found.add(int(status.parent.name))
    return found


def home_mode(user: str) -> int:
    """The permission bits of `user`'s home folder."""
    return Path(os.path.expanduser(f"~{user}")).stat().st_mode & 0o777


def files(folder: Path) -> dict[str, bytes]:
    """{path relative to `folder`: content} of every file under it."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def write_as(user: str, path: Path, text: str) -> None:
    """Write `path` as `user` (their own file, in folders they own)."""
    run_as(user, ["mkdir", "-p", path.parent], check=True)
    run_as(user, ["tee", path], input=text, check=True)


# ---- what a person does in the browser --------------------------------------------------------


def log_in(browser, hub: Hub, user: str):
    """A browser context of its own for `user`, logged in through the hub's form; JupyterLab loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(hub.url("/hub/login"))
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()
    return context, page


def nbgrader_menu(page) -> list[str]:
    """The items of the Nbgrader menu, as the user sees them (the menu is closed again)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    items = page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return [item.strip() for item in items if item.strip()]


def assignments(page):
    """Open Nbgrader → Assignment List; returns the panel once its lists have loaded."""
    menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#nbgrader-assignment-list")
    panel.locator("#released_assignments_list_loading").wait_for(state="hidden")
    return panel


def click_and_wait(page, panel, list_id: str, button: str, then_list: str, then_text: str):
    """Click `button` in `list_id`'s row of the assignment, wait until `then_list` shows `then_text`."""
    panel.locator(f"#{list_id} .list_item", has_text=ASSIGNMENT).get_by_role("button", name=button).click()
    panel.locator(f"#{then_list} .list_item", has_text=then_text).first.wait_for()


def formgrader_action(page, row_text: str, icon: str) -> str:
    """Click the `icon` link in the Formgrader table row holding `row_text`; return the success log.

    Formgrader answers each action with a modal (#success-modal or #error-modal): it is read, closed."""
    page.locator("tr", has_text=row_text).first.locator(f".glyphicon-{icon}").click()
    modal = page.locator("#success-modal, #error-modal").first
    modal.wait_for(state="visible", timeout=300_000)
    text = modal.inner_text()
    assert modal.get_attribute("id") == "success-modal", text[-3000:]
    modal.get_by_role("button", name="OK").click()
    page.locator("#success-modal").wait_for(state="detached")
    return text


def shot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"hub_{name}.png"))


# ---- the class ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0 or not tool("useradd") or not tool("chpasswd"):
        unavailable("a class of Unix users needs root, useradd and chpasswd")
    if not bubblewrap_works():
        unavailable("the instructor's grader needs bubblewrap")
    if chromium_executable() is None:
        pytest.skip("no Chromium executable (Debian: apt-get install chromium)")
    if not os.access(PROXY, os.X_OK):
        unavailable(f"no configurable-http-proxy at {PROXY} (.ci/run installs it; or set HUB_PROXY)")
    hub = Hub()
    try:
        home = hub.add_user(INSTRUCTOR)
        for role, name in STUDENTS.items():
            if role != NEW_AFTER_SETUP:
                hub.add_user(name).chmod(0o755)  # open, as Debian makes homes (useradd's UMASK 022)
        subprocess.run([tool("groupadd"), hub.groups[1]], check=True)  # a class that already has a member
        hub.join_class(STUDENTS[JOINS_BEFORE_SETUP])
        probe = run_as(INSTRUCTOR, [sys.executable, "-c", "import autograder, jupyterhub"], cwd=home)
        if probe.returncode != 0:
            unavailable(f"{sys.executable} cannot be run by other users: {probe.stderr.strip()[-300:]}")
        hub.setup_log = hub.setup().stdout
        hub.add_user(STUDENTS[NEW_AFTER_SETUP])
        hub.restore_account_defaults()
        for role, name in STUDENTS.items():
            if role != JOINS_BEFORE_SETUP:
                hub.join_class(name)
        hub.modes_before_login = {role: home_mode(name) for role, name in STUDENTS.items()}
        hub.course = home / "conv-from-scratch"
        shutil.rmtree(hub.course / "release" / ASSIGNMENT)  # made again by Formgrader's Generate
        hub.start()
        yield hub
    finally:
        killed = hub.stop()
    assert killed == [], f"processes still running after the hub stopped: {killed}"


@pytest.fixture(scope="module")
def term(hub, browser, screenshots):
    """The whole term through the browser; returns what the test checks."""
    seen = {"started": time.monotonic()}
    course = hub.course
    contexts = []
    try:
        context, teacher = log_in(browser, hub, INSTRUCTOR)
        contexts.append(context)
        seen["instructor_menu"] = nbgrader_menu(teacher)
        teacher.goto(hub.url(f"/user/{INSTRUCTOR}/formgrader"))  # its own tab: JupyterHub forbids framing it
        teacher.locator("tr", has_text=ASSIGNMENT).first.wait_for()
        formgrader_action(teacher, ASSIGNMENT, "education")  # generate
        seen["generated"] = files(course / "release" / ASSIGNMENT)
        formgrader_action(teacher, ASSIGNMENT, "cloud-upload")  # release
        seen["due"] = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
        as_instructor(hub, ["db", "assignment", "add", ASSIGNMENT, f"--duedate={seen['due']} UTC"])
        shot(teacher, screenshots, "1_formgrader_released")

        # each student: fetch, complete, see the figures, submit
        made = notebooks(
            reads=[
                str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
                str(course / "autograder" / "reference" / f"{ASSIGNMENT}.h5"),
                str(course / "gradebook.db"),
                str(course / "submitted" / STUDENTS["right"] / SUBMITTED),
            ],
            writes=[str(course / "HOSTILE_WAS_HERE"), str(course.parent / "HOSTILE_WAS_HERE")],
        )
        pages = {}
        for role, name in STUDENTS.items():
            context, page = log_in(browser, hub, name)
            contexts.append(context)
            pages[role] = page
            seen.setdefault("student_menu", nbgrader_menu(page))
            panel = assignments(page)
            click_and_wait(page, panel, "released_assignments_list", "Fetch", "fetched_assignments_list", ASSIGNMENT)
            if role == "right":
                shot(page, screenshots, "2_student_fetched")
            write_as(name, Path(f"~{name}").expanduser() / SUBMITTED, nbformat.writes(made[role]))
            page.goto(hub.url(f"/user/{name}/lab/tree/{SUBMITTED}"))
            figures = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown img")
            figures.first.wait_for()
            page.wait_for_function(
                "imgs => imgs.length > 0 && imgs.every(i => i.complete)",
                arg=figures.element_handles(),
            )
            seen.setdefault("figures", figures.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
            if role == "right":
                figures.first.evaluate("img => img.scrollIntoView({block: 'center'})")
                shot(page, screenshots, "3_student_notebook")
            panel = assignments(page)
            click_and_wait(page, panel, "fetched_assignments_list", "Submit", "submitted_assignments_list", ASSIGNMENT)
            if role == "hostile":
                shot(page, screenshots, "4_student_submitted")
            seen.setdefault("students_blocked", [])
            seen["students_blocked"].append(
                run_as(name, ["cat", course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"]).returncode != 0
            )
        seen["student_formgrader"] = urllib_status(pages["right"], hub.url(f"/user/{STUDENTS['right']}/formgrader"))
        attack_the_exchange(hub)

        # the instructor: collect, autograde each student, feedback
        teacher.reload()
        seen["collect_log"] = formgrader_action(teacher, ASSIGNMENT, "cloud-download")  # collect
        teacher.locator("tr", has_text=ASSIGNMENT).first.get_by_role("link", name="3").click()
        seen["autograde_logs"] = [formgrader_action(teacher, name, "flash") for name in STUDENTS.values()]
        teacher.reload()
        rows = {name: teacher.locator("tr", has_text=name).first for name in STUDENTS.values()}
        for row in rows.values():
            row.locator(".score").filter(has_text="/").wait_for()
        seen["formgrader_scores"] = {role: rows[name].locator(".score").inner_text() for role, name in STUDENTS.items()}
        shot(teacher, screenshots, "5_formgrader_scores")
        teacher.goto(hub.url(f"/user/{INSTRUCTOR}/formgrader/manage_assignments"))
        formgrader_action(teacher, ASSIGNMENT, "comment")  # generate feedback
        formgrader_action(teacher, ASSIGNMENT, "envelope")  # release feedback

        # each student fetches their feedback
        seen["feedback"] = {}
        for role, name in STUDENTS.items():
            page = pages[role]
            page.goto(hub.url(f"/user/{name}/lab"))
            panel = assignments(page)
            panel.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
                "button", name="Fetch Feedback"
            ).click()
            panel.locator("#submitted_assignments_list", has_text="view feedback").wait_for()
            (html,) = Path(f"~{name}").expanduser().joinpath(ASSIGNMENT, "feedback").rglob(f"{ASSIGNMENT}.html")
            seen["feedback"][role] = html.read_text(encoding="utf-8")
            if role == "hostile":
                relative = html.relative_to(Path(f"~{name}").expanduser())
                page.goto(hub.url(f"/user/{name}/files/{relative}"))
                page.get_by_text("read []; wrote []").first.evaluate("node => node.scrollIntoView({block: 'center'})")
                shot(page, screenshots, "6_student_feedback")

        seen["home_modes"] = {role: home_mode(name) for role, name in STUDENTS.items()}
        seen["classmates_read"] = classmates_read(hub)

        as_instructor(hub, ["export"])
        with open(course / "grades.csv", newline="") as stream:
            rows = list(csv.DictReader(stream))
        seen["grades"] = {row["student_id"]: float(row["score"]) for row in rows}
        seen["export"] = {row["student_id"]: row for row in rows}
        seen["names"] = {row["student_id"]: (row["first_name"], row["last_name"]) for row in rows}
        seen["course_files"] = sorted(str(path.relative_to(course)) for path in course.rglob("HOSTILE*"))
        seen["home_files"] = sorted(path.name for path in course.parent.glob("HOSTILE*"))
        seen["seconds"] = time.monotonic() - seen["started"]
        print(f"the term took {seen['seconds']:.0f} s in the browser")
        return seen
    finally:
        for context in contexts:
            context.close()


def as_instructor(hub: Hub, args: list[str]) -> str:
    """`nbgrader ARGS` as the instructor in their course folder; must succeed."""
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "NBGRADER_EXCHANGE": str(hub.exchange)}
    result = run_as(INSTRUCTOR, [sys.executable, "-m", "nbgrader", *args], cwd=hub.course, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def attack_the_exchange(hub: Hub) -> None:
    """As the hostile student, in the exchange's inbound: her notebook in the right student's name an
    hour later than now, and her own resubmission backdated 11 months (name, timestamp.txt, mtimes)."""
    hostile = STUDENTS["hostile"]
    inbound = hub.exchange / "conv-from-scratch" / "inbound"
    cache = Path(f"~{hostile}").expanduser() / ".local" / "share" / "jupyter" / "nbgrader_cache" / "conv-from-scratch"
    now = datetime.datetime.now(datetime.UTC)
    backdated = now - datetime.timedelta(days=335)
    for name, stamp in ((STUDENTS["right"], now + datetime.timedelta(hours=1)), (hostile, backdated)):
        folder = inbound / f"{name}+{ASSIGNMENT}+{stamp:{STAMP}}"
        script = f'mkdir "{folder}" && cp -r "{cache}"/*/* "{folder}/"'  # her submission: notebook, secret
        script += f' && printf "{stamp:{STAMP}}" > "{folder}/timestamp.txt"'
        script += f' && touch -d "{stamp:%Y-%m-%d %H:%M:%S}" "{folder}"/* "{folder}"'
        result = run_as(hostile, ["sh", "-c", script])
        assert result.returncode == 0, result.stderr


def classmates_read(hub: Hub) -> dict[str, bool]:
    """{(reader, owner, what): whether it worked}: every student at every other's home, submitted
    notebook and feedback, and at their own (which must work)."""
    read = {}
    for reader in STUDENTS:
        for owner, name in STUDENTS.items():
            home = Path(f"~{name}").expanduser()
            targets = {"notebook": home / SUBMITTED, "home": home}
            targets["feedback"] = next((home / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html"))
            for what, path in targets.items():
                command = ["ls", path] if what == "home" else ["cat", path]
                read[reader, owner, what] = run_as(STUDENTS[reader], command).returncode == 0
    return read


def urllib_status(page, url: str) -> int:
    """The HTTP status a logged-in user gets for `url` (with their own cookies)."""
    return page.request.get(url).status


def test_the_export_has_every_students_honest_score(term):
    assert term["grades"] == {STUDENTS[role]: score for role, score in SCORES.items()}


def test_students_are_named_from_their_accounts(term):
    """Autograde adds students to the gradebook; their names come from their Unix accounts."""
    assert term["names"] == {STUDENTS[role]: (STUDENTS[role].capitalize(), "Tester") for role in SCORES}


def test_formgrader_shows_the_three_scores(term):
    assert term["formgrader_scores"] == {role: f"{score:g} / 100" for role, score in SCORES.items()}


def test_grading_ran_in_the_instructors_sandbox_without_checksum_warnings(term):
    for log in term["autograde_logs"]:
        assert "Isolated grader (isolation: user_namespace)" in log, log[-2000:]
        assert "has changed" not in log, log[-2000:]


def test_the_hostile_student_read_and_wrote_nothing_of_the_course(term):
    assert "read []; wrote []" in term["feedback"]["hostile"]
    assert term["course_files"] == [] and term["home_files"] == []
    assert term["students_blocked"] == [True, True, True]  # the course folder is the instructor's alone


def test_feedback_names_the_mistakes_and_the_missing_work(term):
    assert "The bias b is missing" in term["feedback"]["hostile"]
    assert "not implemented yet" in term["feedback"]["half"]
    assert "100.0 / 100.0" in term["feedback"]["right"] or "Score: 100" in term["feedback"]["right"]


def test_students_see_no_instructor_tools(term):
    instructor_tools = {"Formgrader", "Formgrader (local)", "Create assignment", "Course List"}
    assert instructor_tools <= set(term["instructor_menu"])
    assert term["student_menu"] == ["Assignment List"]
    assert term["student_formgrader"] == 404


def test_students_see_the_figures(term):
    assert term["figures"] and all(width > 0 for width in term["figures"])


def test_a_classmates_submission_in_your_name_is_refused_and_shown_to_the_instructor(term):
    """The export above has the right student's 100: the forged folder (the hostile notebook) was not graded."""
    right, hostile = STUDENTS["right"], STUDENTS["hostile"]
    assert f"Refused {right}+{ASSIGNMENT}+" in term["collect_log"] and f"belongs to {hostile}" in term["collect_log"]
    assert "collect refused a submission in this name" in term["export"][right]["notes"]
    assert f"put a submission in {right}'s name" in term["export"][hostile]["notes"]


def test_a_backdated_submission_is_still_late(term):
    hostile = term["export"][STUDENTS["hostile"]]
    submitted = datetime.datetime.fromisoformat(hostile["timestamp"])
    assert datetime.datetime.fromisoformat(hostile["duedate"]) == term["due"]
    assert submitted > term["due"]
    assert "backdated" in hostile["notes"] and "files were last changed at" in term["collect_log"]


def test_students_cannot_read_each_others_work_or_feedback(term, hub):
    """However they joined the class; each still reads their own."""
    assert hub.modes_before_login[JOINS_BEFORE_SETUP] == 0o700  # setup-class.sh closed a member's home
    assert hub.modes_before_login[NEW_AFTER_SETUP] == 0o700  # a new account's, by HOME_MODE
    assert hub.modes_before_login["hostile"] == 0o755  # joined later: still open, until she logs in
    assert term["home_modes"] == {role: 0o700 for role in STUDENTS}
    assert len(term["classmates_read"]) == 27
    assert term["classmates_read"] == {attempt: attempt[0] == attempt[1] for attempt in term["classmates_read"]}
    assert "closed:" in hub.setup_log and "HOME_MODE 0700" in hub.setup_log


def test_formgraders_generate_makes_the_committed_release(term):
    committed = files(ROOT / "release" / ASSIGNMENT)
    assert sorted(term["generated"]) == sorted(committed)
    assert [name for name, content in term["generated"].items() if content != committed[name]] == []
