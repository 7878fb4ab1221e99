"""A small SVHN stand-in made from the MNIST digits shipped here (no SVHN copy exists offline).

Each 32×32 colour image shows one MNIST digit in the middle of a house-number
crop: a random background colour, a darker digit,
parts of neighbouring digits at the sides, a brightness ramp and noise. Like
real SVHN the pictures share a large, bright, common level and differ by a
small contrast, so a network fed unscaled 0–255 values learns badly while
the same network on x / 255 learns. The label layout is SVHN's: X of shape
(32, 32, 3, N) uint8, y of shape (N, 1) with labels 1..10, 10 standing for 0,
and the classes are as unbalanced as SVHN's (1 is the commonest).

Generation is deterministic (fixed seeds) and takes about a second; the
file is cached on disk, named by the generator's version.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

VERSION = 1
SIZES = {"train": 4000, "test": 1000}
SEED = 20_26
# SVHN's training-set share of each label 1..10 (10 = digit 0)
SHARES = np.array([13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659, 4948], dtype=float)
SHARES /= SHARES.sum()


def _cache_dir() -> Path:
    root = os.environ.get("GRADER_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "grader")
    return Path(root) / "data"


def _images(digits: np.ndarray, by_class: list[np.ndarray], labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Compose one 32×32×3 uint8 picture per label."""
    n = len(labels)
    out = np.empty((n, 32, 32, 3), dtype=np.uint8)
    ramp = np.linspace(-1.0, 1.0, 32)
    for i, label in enumerate(labels):
        digit = label % 10
        mask = np.zeros((32, 48), dtype=float)  # wider than the picture: neighbours are cut by the edges
        for offset, cls in ((-19, rng.integers(10)), (19, rng.integers(10)), (0, digit)):
            pool = by_class[cls]
            glyph = digits[pool[rng.integers(len(pool))]] / 255.0
            top = 2 + rng.integers(-1, 2)
            left = 10 + offset + rng.integers(-1, 2)
            lo, hi = max(left, 0), min(left + 28, 48)
            region = mask[top:top + 28, lo:hi]
            np.maximum(region, glyph[: region.shape[0], lo - left: hi - left], out=region)
        mask = mask[:, 8:40]
        background = rng.uniform(100, 170, 3)
        contrast = -rng.uniform(70, 120)  # house numbers: a darker digit on a lighter plate
        foreground = np.clip(background + contrast * rng.uniform(0.7, 1.3, 3), 0, 255)
        picture = background * (1 - mask[..., None]) + foreground * mask[..., None]
        tilt = rng.uniform(-20, 20, 2)
        picture += (tilt[0] * ramp[:, None] + tilt[1] * ramp[None, :])[..., None]
        picture += rng.normal(0, 6, picture.shape)
        out[i] = np.clip(picture, 0, 255).round().astype(np.uint8)
    return out


def generate(mnist_path: Path) -> dict[str, np.ndarray]:
    """The train and test sets in SVHN's .mat layout, always the same for the same MNIST file."""
    arrays = {}
    with np.load(mnist_path, allow_pickle=False) as mnist:
        for split, seed in (("train", SEED), ("test", SEED + 1)):
            digits, classes = mnist[f"x_{split}"], mnist[f"y_{split}"]
            by_class = [np.flatnonzero(classes == c) for c in range(10)]
            rng = np.random.default_rng(seed)
            labels = rng.choice(np.arange(1, 11), size=SIZES[split], p=SHARES)
            images = _images(digits, by_class, labels, rng)
            arrays[f"{split}_X"] = np.ascontiguousarray(np.moveaxis(images, 0, -1))  # (32, 32, 3, N)
            arrays[f"{split}_y"] = labels.astype(np.uint8).reshape(-1, 1)
    return arrays


def path(mnist_path: Path) -> Path:
    """The cached stand-in file, generated on first use."""
    target = _cache_dir() / f"svhn-standin-v{VERSION}.npz"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, **generate(mnist_path))
        os.chmod(tmp, 0o644)  # readable by a kernel that runs as another user
        os.replace(tmp, target)
    return target
