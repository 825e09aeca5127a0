"""Find the garment in a product photo and lift it off its backdrop.

Product photos sit on a plain backdrop, but its colour drifts between a shop's seasons (cream one
year, grey the next). A frozen ImageNet network sees that drift: the same coat on cream and on grey
gives noticeably different features, so two seasons of one catalog would not mix in a search.
`isolate_garment` removes the drift before embedding by painting every backdrop pixel one fixed
neutral colour and framing the garment the same way every time.

numpy and PIL only: no torch, so the web process can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

BoolMask = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]

# The backdrop every isolated garment is put on: a light studio grey. Close to the white most
# product shots use (so the ImageNet network sees a familiar scene), but not pure white, so white
# garments keep a visible outline.
NEUTRAL_BACKGROUND: Final = (240, 240, 240)

# Detection runs on a copy whose longer side is at most this; the mask is scaled back up. A
# backdrop is smooth, so little is lost, and a 12 MP photo costs what a catalog thumbnail costs.
DETECT_MAX_SIDE: Final = 256

# The border band sampled for the backdrop, in working-image pixels.
BORDER_PIXELS: Final = 2
# Border samples are smoothed along each edge over this many pixels (JPEG noise, fabric fluff).
BORDER_SMOOTHING: Final = 11

# Colour distances are RGB Euclidean, 0..441.
# A border sample further than max(OFF_BACKDROP_MIN, OFF_BACKDROP_FACTOR x the median border distance)
# from the border's median colour is not backdrop (the garment touches that edge there).
OFF_BACKDROP_MIN: Final = 12.0
OFF_BACKDROP_FACTOR: Final = 4.0
# Plain-backdrop test. Studio backdrops, lighting gradient included, stay well inside both limits;
# street and room photos fail one of them, and then the whole image counts as the garment.
MAX_BORDER_SPREAD: Final = 25.0  # median distance of border samples from their median colour
MIN_BORDER_BACKDROP_SHARE: Final = 0.6  # share of border samples that are backdrop
MAX_BACKDROP_NOISE: Final = 6.0  # median distance of border pixels from the fitted backdrop

# A pixel is garment when its distance from the fitted backdrop exceeds
# max(MIN_GARMENT_DISTANCE, NOISE_FACTOR x backdrop noise). The floor is low because the backdrop
# is modelled per pixel (gradient included): a white shirt on a cream backdrop differs by about 10.
MIN_GARMENT_DISTANCE: Final = 8.0
NOISE_FACTOR: Final = 5.0

# Fewer garment pixels than this share of the image means we found nothing.
MIN_GARMENT_SHARE: Final = 0.002

# Below this many pixels on a side there is no border band and garment to tell apart.
MIN_DETECT_SIDE: Final = 16

# Hole filling stops after this many row+column sweeps (a maze-like mask; never seen on garments).
MAX_FILL_SWEEPS: Final = 16


@dataclass(frozen=True)
class Box:
    """A pixel rectangle; x1 and y1 are exclusive, as in PIL's crop and numpy slices."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def as_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True)
class Foreground:
    """Where the garment is in one photo."""

    box: Box
    # Fraction of the image's pixels that are garment (1.0 when no plain backdrop was found).
    coverage: float
    # The estimated backdrop colour (the border's median colour, also for non-plain photos).
    background_rgb: tuple[int, int, int]
    # True for garment pixels; same height and width as the image.
    mask: BoolMask = field(compare=False, repr=False)
    # False for street or room photos (and blank ones): box and mask are then the whole image.
    on_plain_backdrop: bool = True


def find_garment(image: Image.Image) -> Foreground:
    """Model the backdrop from the image border and mark everything that differs from it as garment.

    The backdrop is not assumed flat: the four border strips are interpolated across the image
    (a Coons patch), so a lighting gradient or a shadowed corner stays backdrop. Deterministic and
    cheap (about a millisecond on a catalog photo): numpy on a copy of at most DETECT_MAX_SIDE px.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    width, height = rgb.size
    if min(width, height) < MIN_DETECT_SIDE:
        return _whole_image(width, height, _as_rgb(np.median(np.asarray(rgb).reshape(-1, 3), axis=0)))
    # Channels first: every numpy pass then runs over long contiguous rows, not triples.
    pixels = np.asarray(_downscaled(rgb), dtype=np.float32).transpose(2, 0, 1).copy()
    backdrop = _fit_backdrop(pixels)
    if not backdrop.plain:
        return _whole_image(width, height, backdrop.colour)

    distance_sq = np.square(pixels - backdrop.surface).sum(axis=0)
    noise = float(np.sqrt(np.median(_border(distance_sq))))
    if noise > MAX_BACKDROP_NOISE:
        return _whole_image(width, height, backdrop.colour)
    threshold = max(MIN_GARMENT_DISTANCE, NOISE_FACTOR * noise)
    small_mask = _clean(distance_sq > threshold * threshold)
    if small_mask.mean() < MIN_GARMENT_SHARE:
        return _whole_image(width, height, backdrop.colour)

    mask = _resized_mask(small_mask, (width, height))
    box = _bounding_box(mask)
    if box is None:
        return _whole_image(width, height, backdrop.colour)
    return Foreground(box=box, coverage=float(mask.mean()), background_rgb=backdrop.colour, mask=mask)


def isolate_garment(image: Image.Image, foreground: Foreground, *, margin: float = 0.05) -> Image.Image:
    """Crop to the garment, paint the backdrop NEUTRAL_BACKGROUND and pad to a square.

    This is what makes embeddings robust to backdrop drift: after it, the same garment shot on cream
    and on grey gives (nearly) the same pixels, so the network gives (nearly) the same features.
    The square keeps the whole garment inside the network's centre crop, unstretched. `margin` is a
    fraction of the box's longer side added on every side, so the outline is never touching the edge.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    if rgb.size != (foreground.mask.shape[1], foreground.mask.shape[0]):
        raise ValueError(
            f"foreground was found on a {foreground.mask.shape[1]}x{foreground.mask.shape[0]} image, "
            f"not this {rgb.width}x{rgb.height} one"
        )
    box = foreground.box
    pad = round(margin * max(box.width, box.height))
    x0, y0 = max(0, box.x0 - pad), max(0, box.y0 - pad)
    x1, y1 = min(rgb.width, box.x1 + pad), min(rgb.height, box.y1 + pad)

    crop = rgb.crop((x0, y0, x1, y1))
    keep = Image.fromarray(foreground.mask[y0:y1, x0:x1])  # mode "1"
    square = Image.new("RGB", (max(crop.size),) * 2, NEUTRAL_BACKGROUND)
    square.paste(crop, ((square.width - crop.width) // 2, (square.height - crop.height) // 2), keep)
    return square


def _downscaled(image: Image.Image) -> Image.Image:
    longer = max(image.size)
    if longer <= DETECT_MAX_SIDE:
        return image
    scale = DETECT_MAX_SIDE / longer
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # BOX averages whole source pixels: cheap and without ringing at the garment's outline.
    return image.resize(size, Image.Resampling.BOX)


@dataclass(frozen=True)
class _Backdrop:
    colour: tuple[int, int, int]
    plain: bool
    surface: FloatArray  # (3, H, W): the backdrop colour expected at every pixel


def _fit_backdrop(pixels: FloatArray) -> _Backdrop:
    band = min(BORDER_PIXELS, pixels.shape[1] // 2, pixels.shape[2] // 2) or 1
    # (3, length) colour profiles along each edge; the median across the band drops single specks.
    top = np.median(pixels[:, :band, :], axis=1)
    bottom = np.median(pixels[:, -band:, :], axis=1)
    left = np.median(pixels[:, :, :band], axis=2)
    right = np.median(pixels[:, :, -band:], axis=2)
    edges = np.concatenate([top, bottom, left, right], axis=1)
    colour = np.median(edges, axis=1)
    off = np.sqrt(np.square(edges - colour[:, None]).sum(axis=0))
    spread = float(np.median(off))
    tolerance = max(OFF_BACKDROP_MIN, OFF_BACKDROP_FACTOR * spread)
    plain = spread <= MAX_BORDER_SPREAD and float(np.mean(off <= tolerance)) >= MIN_BORDER_BACKDROP_SHARE
    if not plain:
        return _Backdrop(colour=_as_rgb(colour), plain=False, surface=pixels)

    top, bottom, left, right = (
        _backdrop_profile(profile, colour, tolerance) for profile in (top, bottom, left, right)
    )
    return _Backdrop(colour=_as_rgb(colour), plain=True, surface=_coons_patch(top, bottom, left, right))


def _backdrop_profile(profile: FloatArray, colour: FloatArray, tolerance: float) -> FloatArray:
    # Where the garment reaches this edge, bridge the gap from the backdrop on either side.
    positions = np.arange(profile.shape[1])
    is_backdrop = np.sqrt(np.square(profile - colour[:, None]).sum(axis=0)) <= tolerance
    if is_backdrop.sum() < 2:
        bridged = np.repeat(colour[:, None], profile.shape[1], axis=1)
    else:
        bridged = np.stack(
            [np.interp(positions, positions[is_backdrop], channel[is_backdrop]) for channel in profile]
        )
    return _moving_average(bridged.astype(np.float32), BORDER_SMOOTHING)


def _moving_average(profile: FloatArray, window: int) -> FloatArray:
    window = min(window, profile.shape[1])
    if window < 2:
        return profile
    padded = np.pad(profile, ((0, 0), (window // 2, window - 1 - window // 2)), mode="edge")
    summed = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
    return ((summed[:, window:] - summed[:, :-window]) / window).astype(np.float32)


def _coons_patch(top: FloatArray, bottom: FloatArray, left: FloatArray, right: FloatArray) -> FloatArray:
    """The smooth surface that meets the four edge profiles (bilinearly blended Coons patch).

    Written per channel as a (H, 4) @ (4, W) product: the usual formula with its corner correction
    folded into the top and bottom profiles.
    """
    height, width = left.shape[1], top.shape[1]
    across = np.linspace(0.0, 1.0, width, dtype=np.float32)
    down = np.linspace(0.0, 1.0, height, dtype=np.float32)
    corners_top = top[:, :1] * (1 - across) + top[:, -1:] * across
    corners_bottom = bottom[:, :1] * (1 - across) + bottom[:, -1:] * across
    rows = np.stack(
        [np.broadcast_to(1 - down, left.shape), np.broadcast_to(down, left.shape), left, right], axis=2
    )  # (3, H, 4)
    cols = np.stack(
        [
            top - corners_top,
            bottom - corners_bottom,
            np.broadcast_to(1 - across, top.shape),
            np.broadcast_to(across, top.shape),
        ],
        axis=1,
    )  # (3, 4, W)
    return np.matmul(rows, cols)


def _border(values: FloatArray) -> FloatArray:
    band = BORDER_PIXELS
    return np.concatenate(
        [
            values[:band].ravel(),
            values[-band:].ravel(),
            values[band:-band, :band].ravel(),
            values[band:-band, -band:].ravel(),
        ]
    )


def _clean(mask: BoolMask) -> BoolMask:
    # Opening drops isolated specks (dust, JPEG noise); closing joins a garment split by a thin
    # highlight; filling keeps garment pixels that happen to match the backdrop colour (a cream
    # shirt's highlights on a cream backdrop) so isolate_garment does not paint over them.
    opened = _dilate(_erode(mask, 1), 1)
    closed = _erode(_dilate(opened, 2), 2)
    return _fill_holes(closed)


def _dilate(mask: BoolMask, radius: int) -> BoolMask:
    # A square structuring element is separable: a row pass then a column pass.
    out = mask.copy()
    for axis in (0, 1):
        grown = out.copy()
        for step in range(1, radius + 1):
            _or_shifted(grown, out, step, axis)
            _or_shifted(grown, out, -step, axis)
        out = grown
    return out


def _erode(mask: BoolMask, radius: int) -> BoolMask:
    return ~_dilate(~mask, radius)


def _or_shifted(target: BoolMask, source: BoolMask, step: int, axis: int) -> None:
    if axis == 0:
        if step > 0:
            target[step:] |= source[:-step]
        else:
            target[:step] |= source[-step:]
    elif step > 0:
        target[:, step:] |= source[:, :-step]
    else:
        target[:, :step] |= source[:, -step:]


def _fill_holes(mask: BoolMask) -> BoolMask:
    # Everything not reachable from the image edge without crossing garment is garment.
    free = ~mask
    outside = np.zeros_like(mask)
    outside[0], outside[-1], outside[:, 0], outside[:, -1] = free[0], free[-1], free[:, 0], free[:, -1]
    # Alternate row and column sweeps; each sweep carries "outside" along a whole run of free
    # pixels, so a handful of sweeps reach every nook a real garment outline has.
    for _ in range(MAX_FILL_SWEEPS):
        grown = _sweep_runs(free, outside)
        grown = _sweep_runs(free.T, grown.T).T
        if np.array_equal(grown, outside):
            break
        outside = grown
    return ~outside


def _sweep_runs(free: BoolMask, reached: BoolMask) -> BoolMask:
    """Mark every run of free pixels along a row that contains a reached pixel as reached."""
    width = free.shape[1]
    flat_free = np.ascontiguousarray(free).ravel()
    flat_reached = np.ascontiguousarray(reached).ravel()
    previous_free = np.zeros_like(flat_free)
    previous_free[1:] = flat_free[:-1]
    previous_free[::width] = False  # runs stop at the end of a row
    run_id = np.cumsum(flat_free & ~previous_free)
    run_reached = np.zeros(int(run_id[-1]) + 1, dtype=bool)
    run_reached[run_id[flat_reached & flat_free]] = True
    run_reached[0] = False  # id 0: pixels before the first run of their row, never free
    return (flat_free & run_reached[run_id]).reshape(free.shape) | reached


def _resized_mask(mask: BoolMask, size: tuple[int, int]) -> BoolMask:
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    # Bilinear then a 50% cut gives a smoother outline than nearest-neighbour blocks.
    small = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    return np.asarray(small.resize(size, Image.Resampling.BILINEAR)) >= 128


def _bounding_box(mask: BoolMask) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _whole_image(width: int, height: int, background_rgb: tuple[int, int, int]) -> Foreground:
    return Foreground(
        box=Box(0, 0, width, height),
        coverage=1.0,
        background_rgb=background_rgb,
        mask=np.ones((height, width), dtype=bool),
        on_plain_backdrop=False,
    )


def _as_rgb(colour: npt.NDArray[np.float32]) -> tuple[int, int, int]:
    red, green, blue = (round(float(channel)) for channel in colour)
    return (red, green, blue)
