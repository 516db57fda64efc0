"""Three students of assignment 1, as a class has them: right, half done, and hostile.

- right: every exercise solved (100 points).
- half: the first four exercises solved, the other four still the release's stubs (55 points).
- hostile: three of the course's known mistakes (the bias left out of conv_single_step, average
  pooling where max was asked, the [pad:-pad] crop in conv_backward) and a cell that tries to
  read the course (the source notebook with the solutions, the reference data, the gradebook,
  the other students' notebooks) and to write into it. Her create_mask_from_window
  raises an exception whose message lists what she read and wrote, so the feedback of its public
  case says what she got: "read []; wrote []" in the sandbox.

Notebooks are made from the release (what students fetch) with the source notebook's solutions.
"""

import nbformat

from conftest import ASSIGNMENT, ROOT, grade_id

HALF_DONE = ("zero_pad", "conv_single_step", "conv_forward", "pool_forward")
SCORES = {"right": 100.0, "half": 55.0, "hostile": 71.25}  # hostile: pool_forward's f = 1 case, where max is mean
#: The mistakes the report must count for the hostile student: (exercise, hint id).
HOSTILE_MISTAKES = {
    ("conv_single_step", "bias_missing_or_repeated"),
    ("pool_forward", "mode_ignored"),
    ("conv_backward", "empty_crop_when_pad_is_zero"),
}
EDITS = [  # (function, text of the solution, what the hostile student wrote instead)
    ("conv_single_step", "np.sum(a_slice_prev * W) + b.item()", "np.sum(a_slice_prev * W)"),
    ("pool_forward", 'summarise = np.max if mode == "max" else np.mean', "summarise = np.mean"),
    ("conv_backward", "pad:pad + n_H_prev, pad:pad + n_W_prev", "pad:-pad, pad:-pad"),
]


def probe_cell(reads: list[str], writes: list[str]) -> str:
    """A cell run when the notebook is loaded: read every path of `reads`, write every one of `writes`."""
    return f"""import os
READ, WROTE = [], []
for path in {reads!r}:
    try:
        with open(path, "rb") as stream:
            stream.read(64)
        READ.append(path)
    except OSError:
        pass
for path in {writes!r}:
    try:
        with open(path, "w") as stream:
            stream.write("hostile was here")
        WROTE.append(path)
    except OSError:
        pass
"""


REPORTER = '''def create_mask_from_window(x):
    """Says what the cell above could read and write (the feedback of a public case shows the message)."""
    raise RuntimeError(f"read {READ}; wrote {WROTE}")
'''


def notebooks(reads: list[str], writes: list[str]) -> dict[str, nbformat.NotebookNode]:
    """{student: their completed notebook}; the hostile one probes `reads` and `writes`."""
    release = nbformat.read(str(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    solutions = {
        grade_id(cell): cell.source for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")
    }
    made = {}
    for student in SCORES:
        notebook = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
        for cell in notebook.cells:
            name = grade_id(cell)
            if name in solutions and (student != "half" or name in HALF_DONE):
                cell.source = solutions[name]
        if student == "hostile":
            cells = {grade_id(cell): cell for cell in notebook.cells}
            for function, old, new in EDITS:
                assert old in cells[function].source, (function, old)
                cells[function].source = cells[function].source.replace(old, new)
            cells["create_mask_from_window"].source = REPORTER
            notebook.cells.insert(1, nbformat.v4.new_code_cell(probe_cell(reads, writes)))
        made[student] = notebook
    return made
