"""Find the image files a notebook's markdown shows."""

import re

IMAGE_PATTERNS = [
    re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)"),  # ![alt](path "title")
    re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.IGNORECASE),
]


def referenced_images(notebook: dict) -> list[str]:
    """Relative paths of the images that markdown cells show, in order, without duplicates."""
    found = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        for pattern in IMAGE_PATTERNS:
            for path in pattern.findall(source if isinstance(source, str) else "".join(source)):
                if "://" not in path and not path.startswith("attachment:") and path not in found:
                    found.append(path)
    return found
