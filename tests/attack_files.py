"""The hostile submissions' cells, one file each under tests/attacks/ (see its README.md)."""

from pathlib import Path
from string import Template

ATTACKS = Path(__file__).parent / "attacks"


def attack(name: str, **values) -> str:
    """The text of tests/attacks/<name>.py, its $PLACEHOLDERS filled from `values`: a placeholder
    without a value raises KeyError, values it does not use are ignored."""
    return Template((ATTACKS / f"{name}.py").read_text(encoding="utf-8")).substitute(values)
