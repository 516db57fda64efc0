"""The instructor's source notebook runs clean and reproduces every public value of the spec."""

import pytest

from conftest import POINTS, execute, grade_id, output_text

# The public seeded values of ../shared/course-spec.md, as the check cells print them.
SPEC_VALUES = {
    "public_zero_pad": ["(4, 9, 9, 2)"],
    "public_conv_single_step": ["-6.999089450680221"],
    "public_conv_forward": [
        "(2, 3, 4, 8)",
        "0.5511276474566768",
        "-2.17796037",
        "8.07171329",
        "-0.5772704",
        "3.36286738",
        "4.48113645",
        "-2.89198428",
        "10.99288867",
        "3.03171932",
        "(2, 9, 11, 8)",
        "(2, 2, 3, 8)",
    ],
    "public_pool_forward": [
        "(2, 3, 3, 3)",
        "1.96710175",
        "0.84616065",
        "1.27375593",
        "1.23616403",
        "1.62765075",
        "1.12141771",
        "1.2245077",
        "0.44497696",
        "-0.00261695",
        "-0.31040307",
        "0.50811474",
        "-0.23493734",
        "-0.23961183",
        "0.11872677",
        "0.17255229",
        "-0.22112197",
    ],
    "public_conv_backward": ["1.4524377775388075", "1.7269914583139097", "7.839232564616838"],
    "public_create_mask_from_window": ["[[ True False False] [False False False]]"],
    "public_distribute_value": ["[[0.5 0.5] [0.5 0.5]]"],
    "public_pool_backward": [
        "0.14571390272918056",
        "5.05844394",
        "-1.68282702",
        "0.08485462",
        "0.2787552",
        "1.26461098",
        "-0.25749373",
        "1.17975636",
        "-0.53624893",
    ],
}


@pytest.fixture(scope="module")
def executed(source_path):
    return execute(source_path)


def test_runs_without_error(executed):
    errors = [
        output_text(cell)
        for cell in executed.cells
        if cell.cell_type == "code" and any(out.output_type == "error" for out in cell.outputs)
    ]
    assert errors == []


def test_public_checks_print_every_spec_value(executed):
    cells = {grade_id(cell): cell for cell in executed.cells}
    for check_id, values in SPEC_VALUES.items():
        text = output_text(cells[check_id])
        assert "yours:" in text and "✓" in text, check_id
        for value in values:
            # Each value must appear on a "yours" line (what the solution computed), not only as expected.
            yours = [" ".join(block.split("expected:")[0].split()) for block in text.split("yours:")[1:]]
            assert any(" ".join(value.split()) in block for block in yours), f"{check_id}: {value!r} not yours"


def test_gradient_check_passes(executed):
    (cell,) = [cell for cell in executed.cells if grade_id(cell) == "public_gradient_check"]
    text = output_text(cell)
    assert text.startswith("conv_forward on these inputs") and text.count("✓") == 4 and "✗" not in text, text
    # The text promises a correct backward pass errors below 1e-7 with the cell's step.
    errors = [float(line.split("entries: ")[1].split()[0]) for line in text.splitlines() if "entries: " in line]
    assert len(errors) == 3 and max(errors) < 1e-7, text


def test_hidden_tests_give_full_marks(executed):
    grade_cells = [cell for cell in executed.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    scores = {}
    for cell in grade_cells:
        (result,) = [out for out in cell.outputs if out.output_type == "execute_result"]
        scores[grade_id(cell).removeprefix("test_")] = float(result.data["text/plain"])
    assert scores == POINTS
    assert sum(scores.values()) == 100
