"""The worst photos the limits accept: time and peak memory of each (not a test).

    python bench/bench_photo_worst.py [--cases NAME ...] [--memory-limit-gb 10]

Generates, under the default limits of vision.images (the settings' defaults), the costliest photos
it can think of: the most pixels in a square, at 4:3 and along the longest side at the widest
aspect; every mode the accepted formats carry (RGB, RGBA, LA, 1-bit, palette with transparency,
16-bit greyscale, greyscale and CMYK JPEG); a progressive JPEG, an EXIF-rotated one, animated PNG
and WEBP. Two refused photos (a 40000x1 PNG, a 12000x12000 header) show what refusing costs.

Each photo is measured in fresh processes, one per step, under an address-space limit (so a
regression cannot eat the machine):
  check     what the web process does before storing an upload (outfits.photos.photo_check)
  analyse   what a worker does before the model: decode at the analysis's size (photo_open), find
            the regions and the garment, grade its quality, isolate it on the neutral square
Printed: the photo's bytes, the time of the step, and the process's peak RSS (VmHWM; and its peak
after imports and reading the photo, before the step).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from vision.images import (
    ANALYSIS_SIDE,
    DEFAULT_LIMITS,
    ImageRejected,
    check_garment_image,
    open_garment_image,
)

# 40 MP at 4:3 and square; the longest side at the widest accepted aspect (10000 x 1000).
WIDE: tuple[int, int] = (7303, 5477)
SQUARE: tuple[int, int] = (6324, 6324)
STRIP: tuple[int, int] = (DEFAULT_LIMITS.max_side, DEFAULT_LIMITS.max_side // 10)
# The largest WEBP within the decode limit (16 bytes a pixel: vision.images._WEBP_BYTES_PER_PIXEL).
WEBP_MOST: tuple[int, int] = (4729, 3547)
# The largest progressive (4:2:0) JPEG within it: its pixels and its coefficients (7 bytes a pixel).
PROGRESSIVE_MOST: tuple[int, int] = (7100, 5325)
UPLOAD_LIMIT = 20 * 1024 * 1024  # config/settings/base.py CTL_MAX_UPLOAD_BYTES default


def _grey(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Smooth ramps with some noise: compresses like a photo (a flat colour would be too cheap)."""
    width, height = size
    rng = np.random.default_rng(seed)
    ramp = np.arange(width, dtype=np.uint16)[None, :] // 7 + np.arange(height, dtype=np.uint16)[:, None] // 5
    noise = rng.integers(0, 2, (height, width), dtype=np.uint16)
    return ((ramp + noise) % 256).astype(np.uint8)


def _rgb(size: tuple[int, int]) -> Image.Image:
    # Noise in one channel only: a 40 MP PNG of it stays under the 20 MB upload limit.
    grey = _grey(size)
    ramp = grey & 0xFE
    return Image.fromarray(np.dstack([grey, ramp, 255 - ramp]))


def _encode(image: Image.Image | list[Image.Image], fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    if isinstance(image, list):
        image[0].save(buffer, fmt, save_all=True, append_images=image[1:], **options)
    else:
        image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _palette(size: tuple[int, int]) -> Image.Image:
    image = Image.fromarray(_grey(size) // 4).convert("P")
    image.putpalette([v for i in range(256) for v in (i * 4 % 256, i, 255 - i)])
    return image


CASES: dict[str, Callable[[], bytes]] = {
    "png-rgb-square-40mp": lambda: _encode(_rgb(SQUARE), "PNG"),
    "png-rgba-40mp": lambda: _encode(_rgb(WIDE).convert("RGBA"), "PNG"),
    "png-la-40mp": lambda: _encode(Image.fromarray(_grey(WIDE)).convert("LA"), "PNG"),
    "png-1bit-40mp": lambda: _encode(Image.fromarray(_grey(WIDE)).convert("1"), "PNG"),
    "png-palette-transparency-40mp": lambda: _encode(_palette(WIDE), "PNG", transparency=0),
    "png-16bit-grey-40mp": lambda: _encode(Image.fromarray(_grey(WIDE).astype(np.uint16) * 257), "PNG"),
    "png-strip-10000x1000": lambda: _encode(_rgb(STRIP), "PNG"),
    "png-strip-1000x10000": lambda: _encode(_rgb(STRIP[::-1]), "PNG"),
    "png-animated-40mp": lambda: _encode([_rgb(WIDE), _rgb(WIDE[::1]).rotate(180)], "PNG"),
    "jpeg-rgb-40mp": lambda: _encode(_rgb(WIDE), "JPEG", quality=90),
    "jpeg-progressive-38mp": lambda: _encode(_rgb(PROGRESSIVE_MOST), "JPEG", quality=90, progressive=True),
    "jpeg-cmyk-40mp": lambda: _encode(_rgb(WIDE).convert("CMYK"), "JPEG", quality=90),
    "jpeg-grey-40mp": lambda: _encode(Image.fromarray(_grey(WIDE)), "JPEG", quality=90),
    "jpeg-exif-rotated-40mp": lambda: _encode(_rgb(WIDE), "JPEG", quality=90, exif=_exif(6)),
    "jpeg-strip-10000x1000": lambda: _encode(_rgb(STRIP), "JPEG", quality=95),
    "webp-16mp": lambda: _encode(_rgb(WEBP_MOST), "WEBP", quality=80, method=0),
    "webp-animated-16mp": lambda: _encode(
        [_rgb(WEBP_MOST), _rgb(WEBP_MOST).rotate(180)], "WEBP", quality=80, method=0
    ),
    # Refused: what refusing costs.
    "refused-png-40000x1": lambda: _encode(Image.new("RGB", (40_000, 1), (200, 30, 30)), "PNG"),
    "refused-png-header-12000x12000": lambda: _encode(Image.new("1", (12_000, 12_000)), "PNG"),
    "refused-webp-40mp": lambda: _encode(_rgb(WIDE), "WEBP", quality=80, method=0),
    "refused-jpeg-progressive-40mp": lambda: _encode(_rgb(WIDE), "JPEG", quality=90, progressive=True),
}


def _peak_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: that one survives exec, so a step would report the peak of
    # the benchmark process it was forked from (which made the photos).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _step(step: str, path: Path) -> dict[str, object]:
    """Run one step on one photo in this (fresh) process."""
    from vision.detect import find_garment, isolate_garment
    from vision.quality import assess_quality
    from vision.regions import find_regions

    data = path.read_bytes()
    base = _peak_mb()
    started = time.perf_counter()
    outcome = "ok"
    try:
        if step == "check":
            info = check_garment_image(data)
            outcome = f"{info.format} {info.size[0]}x{info.size[1]}"
        else:
            image = open_garment_image(data, work_side=ANALYSIS_SIDE)
            find_regions(image, poses=None)
            foreground = find_garment(image)
            assess_quality(image, foreground)
            isolated = isolate_garment(image, foreground)
            outcome = f"worked at {image.width}x{image.height}, square {isolated.width}"
    except ImageRejected as error:
        outcome = f"refused: {error}"
    return {
        "seconds": time.perf_counter() - started,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "outcome": outcome,
    }


def _measure(step: str, path: Path, memory_limit: int) -> dict[str, object]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    done = subprocess.run(
        [sys.executable, __file__, "--step", step, str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        check=False,
    )
    if done.returncode != 0:
        return {
            "seconds": float("nan"),
            "base_mb": 0.0,
            "peak_mb": 0.0,
            "outcome": f"FAILED: {done.stderr[-300:]}",
        }
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--memory-limit-gb", type=float, default=10.0, help="address space of each step")
    parser.add_argument("--step", choices=("check", "analyse"), help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step is not None:
        print(json.dumps(_step(args.step, args.path)))
        return
    memory_limit = int(args.memory_limit_gb * 2**30)
    print(f"limits: {DEFAULT_LIMITS}, analysis side {ANALYSIS_SIDE}")
    print(f"{'case':34} {'bytes':>11} {'step':8} {'seconds':>8} {'base MB':>8} {'peak MB':>8}  outcome")
    worst = {"check": (0.0, 0.0), "analyse": (0.0, 0.0)}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.cases:
            path = Path(folder) / name
            path.write_bytes(CASES[name]())
            size = path.stat().st_size
            note = " (over the upload limit)" if size > UPLOAD_LIMIT else ""
            for step in ("check", "analyse"):
                figures = _measure(step, path, memory_limit)
                seconds, peak = float(figures["seconds"]), float(figures["peak_mb"])  # type: ignore[arg-type]
                print(
                    f"{name:34} {size:>11,} {step:8} {seconds:>8.2f} {figures['base_mb']:>8.0f} {peak:>8.0f}"
                    f"  {figures['outcome']}{note}",
                    flush=True,
                )
                if not name.startswith("refused") and not note:
                    slowest, highest = worst[step]
                    worst[step] = (max(slowest, seconds), max(highest, peak))
            path.unlink()
    for step, (seconds, peak) in worst.items():
        print(f"worst accepted photo, {step}: {seconds:.2f} s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
