"""Grading, in the order a submission goes through it: runner (the learner side, one self-contained
file) · reference (the cases, HDF5) · sandbox (isolation, limits) · session (cells, restarts,
budget) · judge (verdicts and hints) · results (every output) · grade (one notebook) · batch (many) ·
report (a class's results per exercise, its mistakes counted)."""
