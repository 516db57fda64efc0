"""`nbgrader export`: nbgrader's CSV with a `notes` column saying why a submission has no grade.

CsvExportWithNotes is the course's ExportApp.plugin_class: a notebook nbgrader could not read
(invalid_submissions.py), a submission autograde failed on, what collect refused or found backdated.
"""

import csv
import json
import os
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from .exchange import collect_notes


def submission_notes(root: Path, student: str, assignment: str) -> str:
    """The reason a submission was not graded, if any: its notebook could not be read, or autograde
    failed on it (nbgrader then keeps no autograded notebook, and exports its score as 0)."""
    graded = sorted((root / "autograded" / student / assignment).glob("*.ipynb"))
    if not graded and (root / "submitted" / student / assignment).is_dir():
        return "submitted but not autograded: see the output of nbgrader autograde"
    notes = []
    for path in graded:
        try:
            invalid = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("autograder", {}).get("invalid")
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        if invalid:
            notes.append(f"{path.name} not graded: {invalid}")
    return "; ".join(notes)


class CsvExportWithNotes(CsvExportPlugin):
    """nbgrader's CSV export, plus a `notes` column saying why a submission got no grade, and what
    collect refused or found backdated (exchange.OwnedCollect)."""

    def export(self, gradebook: Gradebook) -> None:
        super().export(gradebook)
        destination = Path(self.to or "grades.csv")
        with destination.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        root = Path(os.getcwd())
        for row in rows:
            notes = [submission_notes(root, row["student_id"], row["assignment"])]
            notes += collect_notes(root, row["student_id"], row["assignment"])  # refused or backdated
            row["notes"] = "; ".join(note for note in notes if note)
        with destination.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=[*rows[0].keys()] if rows else ["notes"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
