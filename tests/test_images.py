"""Every figure a notebook shows travels with its folder, and is a real image."""

import shutil

import nbformat
import pytest
from PIL import Image

from autograder.build.images import referenced_images
from conftest import ASSIGNMENT, ROOT


def test_release_folder_copied_alone_shows_every_image(tmp_path):
    copy = tmp_path / ASSIGNMENT
    shutil.copytree(ROOT / "release" / ASSIGNMENT, copy)
    notebook = nbformat.read(str(copy / f"{ASSIGNMENT}.ipynb"), as_version=4)
    images = referenced_images(notebook)
    assert len(images) >= 7
    for relative in images:
        assert (copy / relative).is_file(), relative
        with Image.open(copy / relative) as image:
            image.verify()


@pytest.mark.parametrize("folder", ["source", "release"])
def test_edition_images_are_the_drawn_figures(folder):
    directory = ROOT / folder / ASSIGNMENT
    for relative in referenced_images(nbformat.read(str(directory / f"{ASSIGNMENT}.ipynb"), as_version=4)):
        assert (directory / relative).read_bytes() == (ROOT / "images" / relative.split("/")[-1]).read_bytes()


def test_animation_has_frames():
    with Image.open(ROOT / "images" / "conv_sliding.gif") as gif:
        assert gif.n_frames >= 5
