"""The benchmarks still fit the course: bench/grading.py plants its bugs by replacing a line of each
solution, and a solution reworded since would stop the benchmark (not the course) with an error."""

import importlib.util

import nbformat

from conftest import ROOT, grade_id


def load_bench(name: str, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # as when the script runs: its folder first on sys.path
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_planted_bug_of_the_grading_bench_changes_its_solution(source_path, monkeypatch):
    bench = load_bench("grading", monkeypatch)
    source = nbformat.read(str(source_path), as_version=4)
    buggy = bench.buggy_notebook(source, sorted(bench.BUGS))  # raises if a solution no longer has its line
    changed = {grade_id(after) for before, after in zip(source.cells, buggy.cells) if before.source != after.source}
    assert changed == set(bench.BUGS)
