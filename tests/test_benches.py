"""The benchmarks still fit the course: bench/grading.py plants its bugs by replacing a line of each
solution, and a solution reworded since would stop the benchmark (not the course) with an error."""

import importlib.util

import nbformat
import pytest

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


@pytest.mark.slow
def test_the_nbgrader_autograde_bench_grades_every_submission_alike_each_way(monkeypatch, capsys):
    """bench/nbgrader_autograde.py on a small batch (every kind of submission and the tamperer):
    stock nbgrader, the course's autograde and the grader itself all give every submission a
    score; the course's autograde gives each the grader's own score, and stock nbgrader's too
    except the tamperer's, which stock nbgrader is fooled into giving points (times are not checked)."""
    bench = load_bench("nbgrader_autograde", monkeypatch)
    result = bench.compare(5)
    scores = {name: scores for name, (_, _, scores, _) in result.runs.items()}
    assert {name: sorted(s) for name, s in scores.items()} == dict.fromkeys(scores, sorted(result.students))
    assert {c for _, c, _ in result.rows} == {"correct", "partly wrong", "blank"}
    assert scores["course"] == pytest.approx(scores["direct"], abs=0.01)
    honest = [s for s in result.students if s != bench.TAMPERER]
    assert [scores["course"][s] for s in honest] == pytest.approx([scores["stock"][s] for s in honest], abs=0.01)
    assert scores["course"][bench.TAMPERER] < scores["stock"][bench.TAMPERER]
    assert result.runs["course"][1].returncode == 0

    assert bench.report(result) == 0
    printed = capsys.readouterr().out
    assert "submissions stock and course scored differently: 0" in printed
    assert "submissions direct and course scored differently: 0" in printed
    assert "ratio (stock / course):" in printed and "ratio of CPU times (stock / course):" in printed
