"""The scikit-image photos a deraining spec may name, with their shapes (rows, columns) in pixels, so that
validating a spec checks a crop against the smallest photo without loading any (tests/test_deraining_kind.py
checks each shape against :func:`solvers.rain.load_photo`). The default train and test sets are those of
:mod:`solvers.rain`: disjoint photos.

Light: standard library only."""

from __future__ import annotations

from typing import Literal

PHOTO_SHAPES = {
    "astronaut": (512, 512), "brick": (512, 512), "cell": (660, 550), "chelsea": (300, 451),
    "clock": (300, 400), "grass": (512, 512), "hubble_deep_field": (872, 1000),
    "immunohistochemistry": (512, 512), "moon": (512, 512), "page": (191, 384), "retina": (1411, 1411),
    "stereo_motorcycle": (500, 741), "camera": (512, 512), "coffee": (400, 600), "coins": (303, 384),
    "gravel": (512, 512), "rocket": (427, 640), "text": (172, 448),
}

Photo = Literal["astronaut", "brick", "cell", "chelsea", "clock", "grass", "hubble_deep_field",
                "immunohistochemistry", "moon", "page", "retina", "stereo_motorcycle", "camera", "coffee",
                "coins", "gravel", "rocket", "text"]

TRAIN_PHOTOS = ["astronaut", "brick", "cell", "chelsea", "clock", "grass", "hubble_deep_field",
                "immunohistochemistry", "moon", "page", "retina", "stereo_motorcycle"]
TEST_PHOTOS = ["camera", "coffee", "coins", "gravel", "rocket", "text"]


def smallest_side(photos: list[str]) -> int:
    """The smallest height or width (px) among ``photos``: the largest square crop they all allow."""
    return min(min(PHOTO_SHAPES[name]) for name in photos)
