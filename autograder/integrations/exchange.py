"""`nbgrader collect` for a class of Unix accounts that may attack each other through the exchange.

nbgrader's exchange is one folder everyone can write to. Stock collect trusts what a student wrote
there: the student named in a submission folder's name (a classmate's folder under your name, with a
later time in it, replaced your work and only drew a warning), and the time in that name and in
timestamp.txt (a student who backdates both is not late). OwnedCollect, which the course's
nbgrader_config.py puts in place of stock collect, trusts only what the file system says:

- who: the submission folder and every file and folder in it must belong to the Unix account of
  the student it names (or to the instructor running collect, who can submit for a student and
  could write the gradebook anyway). Anything else is refused, as are symbolic links (collect would
  copy, as the instructor, whatever they point to), special files (a FIFO would hang collect) and
  folders without the submission_secret.txt nbgrader submit writes (release_feedback would stop at
  the first, for the whole class).
- when: the latest inode change time (ctime) over the folder and everything in it. Its owner can set
  a file's mtime to any date with utime; nobody but the kernel sets ctime, and any change to a file
  or to a folder's entries (a file added, renamed or linked in) moves it to the present. A student
  can make their submission look later, never earlier. The collected timestamp.txt holds that time,
  which autograde's late penalty and Formgrader read.

Each file is opened without following links and checked on the open file (fstat), then copied into
a staging folder of the instructor's, so nothing can be swapped between the check and the copy;
nbgrader's own copy (its ignore patterns and size limits) then goes from there into submitted/.

Refusals and backdated times are logged (the output of collect, which Formgrader's Collect shows)
and kept in the course's collect_notes.json for the export's notes column (CsvExportWithNotes).
"""

import datetime
import glob
import json
import os
import pwd
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import parse_utc

NOTES_FILE = "collect_notes.json"
#: A submission takes a moment between the time submit writes into its name and its last file:
#: a claimed time earlier than the files' by more than this is called backdated in the notes.
BACKDATED_AFTER = datetime.timedelta(minutes=1)
MAX_DEPTH, MAX_ENTRIES = 16, 2000
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A submission folder that is not collected; the message says why, `owner` names the account
    that owns what was refused when that is the reason."""

    def __init__(self, reason: str, owner: str | None = None):
        super().__init__(reason)
        self.owner = owner


@dataclass
class Submission:
    """One folder of the exchange's inbound, as read: `student` is the name in the folder name,
    `changed` the latest ctime of its contents (naive UTC, as nbgrader's times), `claimed` the times
    its name and timestamp.txt give."""

    student: str
    folder: Path
    staged: Path | None = None
    changed: datetime.datetime | None = None
    claimed: list[datetime.datetime] = field(default_factory=list)


def account_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def utc(seconds: float) -> datetime.datetime:
    """A POSIX time as nbgrader keeps times: naive, in UTC."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


class StagedCopy:
    """Copies one submission folder into `staging`, checking each entry on its open file descriptor.

    `owners`: the uids allowed to own its entries. `limit`: bytes in all. After copy(), `latest_ctime`
    is the latest ctime (POSIX seconds) seen over every folder and file.
    """

    def __init__(self, owners: set[int], limit: int):
        self.owners, self.limit = owners, limit
        self.copied = self.entries = 0
        self.latest_ctime = 0.0

    def check(self, info: os.stat_result, shown: str) -> None:
        if info.st_uid not in self.owners:
            owner = account_name(info.st_uid)
            raise Refused(f"{shown} belongs to {owner}", owner)
        self.latest_ctime = max(self.latest_ctime, info.st_ctime)

    def copy(self, folder: Path, staging: Path) -> None:
        try:
            fd = os.open(folder, OPEN_FLAGS | os.O_DIRECTORY)
        except OSError as error:
            raise Refused(f"it cannot be opened as a folder ({error.strerror})") from None
        try:
            self.copy_folder(fd, staging, "", 0)
        finally:
            os.close(fd)

    def copy_folder(self, fd: int, staging: Path, relative: str, depth: int) -> None:
        shown = relative or "the folder"
        self.check(os.fstat(fd), shown)
        if depth > MAX_DEPTH:
            raise Refused(f"{shown} is nested more than {MAX_DEPTH} folders deep")
        staging.mkdir(mode=0o700)
        for name in sorted(os.listdir(fd)):
            self.entries += 1
            if self.entries > MAX_ENTRIES:
                raise Refused(f"it holds more than {MAX_ENTRIES} files and folders")
            inner = f"{relative}/{name}" if relative else name
            kind = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            if not (stat.S_ISDIR(kind) or stat.S_ISREG(kind)):
                what = "a symbolic link" if stat.S_ISLNK(kind) else "not a regular file"
                raise Refused(f"{inner} is {what}")
            try:
                child = os.open(name, OPEN_FLAGS | (os.O_DIRECTORY if stat.S_ISDIR(kind) else 0), dir_fd=fd)
            except OSError as error:
                raise Refused(f"{inner} cannot be opened ({error.strerror})") from None
            try:
                if stat.S_ISDIR(kind):
                    self.copy_folder(child, staging / name, inner, depth + 1)
                else:
                    self.copy_file(child, staging / name, inner)
            finally:
                os.close(child)

    def copy_file(self, fd: int, target: Path, shown: str) -> None:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped since it was looked at
            raise Refused(f"{shown} is not a regular file")
        self.check(info, shown)
        with open(fd, "rb", closefd=False) as source, open(target, "xb") as sink:
            while block := source.read(1 << 20):
                self.copied += len(block)
                if self.copied > self.limit:
                    raise Refused(f"it holds more than {self.limit} bytes")
                sink.write(block)


class OwnedCollect(ExchangeCollect):
    """nbgrader's collect, taking only submissions owned by the students they name, timed by the
    file system (see the module's docstring). Config: c.ExchangeFactory.collect."""

    def init_src(self) -> None:
        """Read every inbound folder of the assignment (and student, when one is named); choose per
        student their latest valid submission (latest before the due date with --before-duedate)."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                self.duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None

        assignment = self.coursedir.assignment_id
        self.named_student = self.coursedir.student_id if self.coursedir.student_id not in ("", "*") else None
        pattern = os.path.join(glob.escape(self.inbound_path), f"{self.named_student or '*'}+{assignment}+*")
        self.staging = tempfile.TemporaryDirectory(prefix="collect-")
        self.notes: dict[str, list[str]] = {}
        valid: dict[str, list[Submission]] = {}
        for index, folder in enumerate(sorted(glob.glob(pattern))):
            submission = Submission(Path(folder).name.partition(f"+{assignment}+")[0], Path(folder))
            try:
                self.read(submission, Path(self.staging.name) / str(index))
            except Refused as reason:
                self.refuse(submission, reason)
                continue
            valid.setdefault(submission.student, []).append(submission)

        self.src_records = []
        for submissions in valid.values():
            submissions.sort(key=lambda submission: submission.changed, reverse=True)
            on_time = [item for item in submissions if self.duedate is None or item.changed <= self.duedate]
            chosen = on_time[0] if self.before_duedate and on_time else submissions[0]
            self.note_backdating(chosen)
            self.src_records.append(chosen)

    def read(self, submission: Submission, staging: Path) -> None:
        """Check and stage `submission`; set its times. Raises Refused."""
        try:
            student_uid = pwd.getpwnam(submission.student).pw_uid
        except KeyError:
            student_uid = None
        copy = StagedCopy(
            {uid for uid in (student_uid, os.geteuid()) if uid is not None}, 1000 * self.coursedir.max_dir_size
        )
        try:
            copy.copy(submission.folder, staging)
        except Refused as reason:
            if student_uid is None:
                raise Refused(f"{reason}, and there is no account named {submission.student}", reason.owner) from None
            raise
        if not (staging / "submission_secret.txt").is_file():  # release_feedback would stop on it, for everyone
            raise Refused("it has no submission_secret.txt, which nbgrader submit writes")
        submission.staged, submission.changed = staging, utc(copy.latest_ctime)
        claims = [submission.folder.name.partition(f"+{self.coursedir.assignment_id}+")[2].split("+")[0]]
        if (staging / "timestamp.txt").is_file():
            claims.append((staging / "timestamp.txt").read_text(errors="replace").strip())
        for claim in claims:
            try:
                submission.claimed.append(parse_utc(claim))
            except (ValueError, OverflowError, TypeError):
                pass

    def refuse(self, submission: Submission, reason: Refused) -> None:
        """Log the refusal (collect's output) and note it for the named student and the owner."""
        self.log.error(f"Refused {submission.folder.name} (in {submission.student}'s name): {reason}.")
        self.notes.setdefault(submission.student, []).append(f"collect refused a submission in this name: {reason}")
        if reason.owner and reason.owner != submission.student:
            self.notes.setdefault(reason.owner, []).append(
                f"put a submission in {submission.student}'s name into the exchange (refused)"
            )

    def note_backdating(self, submission: Submission) -> None:
        earliest = min(submission.claimed, default=submission.changed)
        if submission.changed - earliest > BACKDATED_AFTER:
            message = (
                f"{submission.folder.name} says it was submitted at {earliest:%Y-%m-%d %H:%M:%S} UTC, but its "
                f"files were last changed at {submission.changed:%Y-%m-%d %H:%M:%S} UTC: collected as submitted then."
            )
            self.log.warning(message)
            self.notes.setdefault(submission.student, []).append(
                f"backdated: claimed {earliest:%Y-%m-%d %H:%M:%S} UTC, "
                f"files changed {submission.changed:%Y-%m-%d %H:%M:%S} UTC (the time used)"
            )

    def copy_files(self) -> None:
        """Copy each chosen submission from staging into submitted/, with timestamp.txt set to the
        file system's time; save the notes."""
        try:
            if not self.src_records:
                self.log.warning(f"No valid submissions of '{self.coursedir.assignment_id}' to collect")
            for submission in self.src_records:
                try:
                    self.copy_submission(submission)
                except Exception as error:  # one submission never stops the class's collect
                    self.log.exception(f"Could not collect {submission.folder.name}")
                    self.notes.setdefault(submission.student, []).append(f"collect failed: {error}")
        finally:
            self.staging.cleanup()
            self.save_notes()

    def copy_submission(self, submission: Submission) -> None:
        student, assignment = submission.student, self.coursedir.assignment_id
        dest = Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))
        dest.parent.mkdir(parents=True, exist_ok=True)
        existing = self.coursedir.get_existing_timestamp(str(dest)) if dest.is_dir() else None
        if dest.is_dir():
            newer = existing is None or submission.changed > existing
            if not ((self.update and newer) or (self.before_duedate and existing != submission.changed)):
                self.log.info(f"No newer submission to collect (use --update to update): {student} {assignment}")
                return
            self.log.info(f"Updating submission: {student} {assignment}")
            shutil.rmtree(dest)
        else:
            self.log.info(f"Collecting submission: {student} {assignment}")
        self.do_copy(str(submission.staged), str(dest))
        stamp = submission.changed.replace(tzinfo=datetime.UTC).strftime(self.timestamp_format)
        (dest / "timestamp.txt").write_text(stamp)

    def save_notes(self) -> None:
        """Write this run's notes into the course's collect_notes.json: {assignment: {student: [note]}}.
        A run over every student replaces the assignment's notes; a run for one student, theirs."""
        path = Path(self.coursedir.root) / NOTES_FILE
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            saved = {}
        assignment = self.coursedir.assignment_id
        if self.named_student is None:
            saved[assignment] = {}
        notes = saved.setdefault(assignment, {})
        notes.pop(self.named_student, None)
        notes.update(self.notes)
        path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")


def collect_notes(root: Path, student: str, assignment: str) -> list[str]:
    """What collect noted about `student`'s submissions of `assignment` (refusals, backdating)."""
    try:
        return list(json.loads((root / NOTES_FILE).read_text()).get(assignment, {}).get(student, []))
    except (OSError, ValueError, AttributeError):
        return []
