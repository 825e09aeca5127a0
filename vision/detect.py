"""Find the garment in a product photo and lift it off its backdrop.

Product photos sit on a plain backdrop, but its colour drifts between a shop's seasons (cream one
year, grey the next). A frozen ImageNet network sees that drift: the same coat on cream and on grey
gives noticeably different features, so two seasons of one catalog would not mix in a search.
`isolate_garment` removes the drift before embedding: every backdrop pixel becomes one fixed
neutral colour and the garment is framed the same way every time.

How the garment is found: the backdrop is modelled from the four image edges (robust to the garment
touching an edge, and interpolated across the image so a lighting gradient stays backdrop); pixels
that differ from the model by more than a threshold set by the backdrop's own noise are garment;
the mask is closed, cleared of specks and its holes filled (scipy.ndimage, skimage.measure). All on
a copy of at most DETECT_MAX_SIDE pixels, a few milliseconds per photo. A border that is not a plain
backdrop (a street or room photo) makes the whole image the garment.

numpy and PIL, with scipy.ndimage and scikit-image for the morphology and connected components (the
same masks, pixel for pixel, as the hand-written loops they replaced); no torch.
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
# A border sample is garment reaching the edge (not backdrop) when it is further than OFF_COLOUR from
# the border's median colour, or further than max(OFF_STRETCH_MIN, OFF_STRETCH_FACTOR x typical)
# from the median of its own stretch of the edge (a sixth of it). Studio lighting shades one side
# of a backdrop by up to about 30, hence the generous first test; the second catches garment that
# is only a little off.
OFF_COLOUR: Final = 40.0
OFF_STRETCH_MIN: Final = 12.0
OFF_STRETCH_FACTOR: Final = 4.0
EDGE_STRETCHES: Final = 6
# Plain-backdrop test. Studio backdrops, lighting gradient included, stay inside all three limits;
# street and room photos fail one of them, and then the whole image counts as the garment.
MAX_BORDER_SPREAD: Final = 40.0  # median distance of border samples from their median colour
MIN_BORDER_BACKDROP_SHARE: Final = 0.6  # share of border samples that are backdrop
MAX_BACKDROP_NOISE: Final = 6.0  # median distance of border pixels from the fitted backdrop

# A pixel is garment when its distance from the fitted backdrop exceeds
# max(MIN_GARMENT_DISTANCE, NOISE_FACTOR x backdrop noise). The floor is low because the backdrop
# is modelled per pixel (gradient included): a white shirt on a cream backdrop differs by about 10.
MIN_GARMENT_DISTANCE: Final = 10.0
NOISE_FACTOR: Final = 5.0

# Fewer garment pixels than this share of the image means we found nothing.
MIN_GARMENT_SHARE: Final = 0.002

# Below this many pixels on a side there is no border band and garment to tell apart.
MIN_DETECT_SIDE: Final = 16

# Mask clean-up: gaps up to 2 * CLOSE_RADIUS working pixels inside a garment are closed.
CLOSE_RADIUS: Final = 2

# isolate_garment: backdrop pixels within this distance of the fitted backdrop become exactly the
# neutral colour (JPEG noise and backdrop texture sit well below it).
BACKDROP_NOISE_FLOOR: Final = 6.0

# Separate parts smaller than this share of the largest part are specks, not garment.
KEEP_PART_SHARE: Final = 0.1


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

    def scaled(self, sx: float, sy: float) -> Box:
        """The same rectangle in a frame `sx` times as wide and `sy` times as tall."""
        return Box(round(self.x0 * sx), round(self.y0 * sy), round(self.x1 * sx), round(self.y1 * sy))

    def iou(self, other: Box) -> float:
        """Intersection over union with another box (0.0 when they do not meet)."""
        width = max(0, min(self.x1, other.x1) - max(self.x0, other.x0))
        height = max(0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = width * height
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union else 0.0


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
    plain_background: bool = True
    # The fitted background colour at each pixel of a downscaled copy (h, w, 3); None if not plain.
    background_surface: npt.NDArray[np.uint8] | None = field(default=None, compare=False, repr=False)
    # A plain backdrop with nothing on it (a blank photo): box and mask are the whole image, as for
    # a photo without a plain backdrop, but there is no garment to find.
    empty: bool = False


def find_garment(image: Image.Image) -> Foreground:
    """Model the backdrop from the image border and mark everything that differs from it as garment.

    The backdrop is not assumed flat: the four border strips are interpolated across the image
    (a Coons patch), so a lighting gradient or a shadowed corner stays backdrop. Deterministic and
    cheap (a few milliseconds on a catalog photo): numpy on a copy of at most DETECT_MAX_SIDE px.
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
        return _whole_image(width, height, backdrop.colour, empty=True)

    mask = _resized_mask(small_mask, (width, height))
    box = _bounding_box(mask)
    if box is None:
        return _whole_image(width, height, backdrop.colour)
    surface = np.clip(np.rint(backdrop.surface.transpose(1, 2, 0)), 0, 255).astype(np.uint8)
    return Foreground(
        box=box,
        coverage=float(mask.mean()),
        background_rgb=backdrop.colour,
        mask=mask,
        background_surface=surface,
    )


def isolate_garment(image: Image.Image, foreground: Foreground, *, margin: float = 0.05) -> Image.Image:
    """Crop to the garment, turn the backdrop into NEUTRAL_BACKGROUND and pad to a square.

    This is what makes embeddings robust to backdrop drift: after it, the same garment shot on cream
    and on grey gives (nearly) the same pixels, so the network gives (nearly) the same features.

    Pixels outside the garment mask that match the fitted backdrop become exactly the neutral
    colour. Those that differ a little (below the garment threshold: the faint body of a white top
    on a cream backdrop, a soft shadow) keep that difference, on the neutral colour instead of on
    the backdrop, so a garment the mask missed is toned, not erased. The square keeps the whole
    garment inside the network's centre crop, unstretched; `margin` is a fraction of the box's longer
    side added on every side. A photo without a plain background is only padded to a square.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    mask = foreground.mask
    if rgb.size != (mask.shape[1], mask.shape[0]):
        raise ValueError(
            f"foreground was found on a {mask.shape[1]}x{mask.shape[0]} image, "
            f"not this {rgb.width}x{rgb.height} one"
        )
    box = foreground.box
    pad = round(margin * max(box.width, box.height))
    x0, y0 = max(0, box.x0 - pad), max(0, box.y0 - pad)
    x1, y1 = min(rgb.width, box.x1 + pad), min(rgb.height, box.y1 + pad)
    crop = rgb.crop((x0, y0, x1, y1))
    surface = foreground.background_surface
    if surface is not None:
        crop = _neutralise_backdrop(crop, mask[y0:y1, x0:x1], surface, rgb.size, (x0, y0))
    square = Image.new("RGB", (max(crop.size),) * 2, NEUTRAL_BACKGROUND)
    square.paste(crop, ((square.width - crop.width) // 2, (square.height - crop.height) // 2))
    return square


def _neutralise_backdrop(
    crop: Image.Image,
    garment: BoolMask,
    surface: npt.NDArray[np.uint8],
    image_size: tuple[int, int],
    origin: tuple[int, int],
) -> Image.Image:
    # The backdrop surface was fitted on a downscaled copy: resample just the crop's part of it.
    scale_x = surface.shape[1] / image_size[0]
    scale_y = surface.shape[0] / image_size[1]
    source_box = (
        origin[0] * scale_x,
        origin[1] * scale_y,
        (origin[0] + crop.width) * scale_x,
        (origin[1] + crop.height) * scale_y,
    )
    expected = Image.fromarray(surface, mode="RGB").resize(
        crop.size, Image.Resampling.BILINEAR, box=source_box
    )
    # Channels first and contiguous, so each numpy pass runs over long rows, not RGB triples.
    pixels = np.ascontiguousarray(np.asarray(crop, dtype=np.float32).transpose(2, 0, 1))
    residual = pixels - np.asarray(expected, dtype=np.float32).transpose(2, 0, 1)
    distance = np.sqrt(np.square(residual).sum(axis=0))
    # The mask was found at a coarser scale, so its outline runs through pixels that are partly or
    # wholly backdrop; left as they are, they draw a cream or grey line around the garment. Deep
    # inside the mask, pixels are garment whatever their colour; along the outline, only pixels that
    # differ from the backdrop as much as garment does.
    factor = -(-image_size[0] // surface.shape[1])
    keep = _erode(garment, factor + 1) | (garment & (distance >= MIN_GARMENT_DISTANCE))
    # Soft shrinkage: residuals up to BACKDROP_NOISE_FLOOR vanish, larger ones fade in continuously.
    residual *= np.clip(1.0 - BACKDROP_NOISE_FLOOR / np.maximum(distance, 1e-6), 0.0, 1.0)
    residual += np.array(NEUTRAL_BACKGROUND, dtype=np.float32)[:, None, None]
    toned = np.where(keep, pixels, residual)
    return Image.fromarray(np.clip(toned, 0, 255).astype(np.uint8).transpose(1, 2, 0), mode="RGB")


def _downscaled(image: Image.Image) -> Image.Image:
    # An integer reduce() averages whole blocks of pixels: the cheapest resampling, with no ringing
    # at the garment's outline; the working copy ends up between DETECT_MAX_SIDE / 2 and it.
    factor = -(-max(image.size) // DETECT_MAX_SIDE)
    return image.reduce(factor) if factor > 1 else image


@dataclass(frozen=True)
class _Backdrop:
    colour: tuple[int, int, int]
    plain: bool
    surface: FloatArray  # (3, H, W): the backdrop colour expected at every pixel


def _fit_backdrop(pixels: FloatArray) -> _Backdrop:
    band = min(BORDER_PIXELS, pixels.shape[1] // 2, pixels.shape[2] // 2)
    # (3, length) colour profiles along each edge, averaged across the band against JPEG noise.
    profiles = (
        pixels[:, :band, :].mean(axis=1),  # top
        pixels[:, -band:, :].mean(axis=1),  # bottom
        pixels[:, :, :band].mean(axis=2),  # left
        pixels[:, :, -band:].mean(axis=2),  # right
    )
    colour = np.median(np.concatenate(profiles, axis=1), axis=1)
    spread = float(np.median(np.concatenate([_distance(p, colour[:, None]) for p in profiles])))
    on_backdrop = [_on_backdrop(profile, colour) for profile in profiles]
    backdrop_share = float(np.mean(np.concatenate(on_backdrop)))
    if spread > MAX_BORDER_SPREAD or backdrop_share < MIN_BORDER_BACKDROP_SHARE:
        return _Backdrop(colour=_as_rgb(colour), plain=False, surface=pixels)
    top, bottom, left, right = (
        _bridged(profile, keep) for profile, keep in zip(profiles, on_backdrop, strict=True)
    )
    return _Backdrop(colour=_as_rgb(colour), plain=True, surface=_coons_patch(top, bottom, left, right))


def _on_backdrop(profile: FloatArray, colour: FloatArray) -> BoolMask:
    """Which samples along one edge are backdrop rather than garment reaching the edge.

    Garment is what stands out from the backdrop's overall colour by a lot, or from the median of
    its own stretch of the edge by a little. The second test follows lighting gradients
    and shadowed corners, which can drift 20-30 from the overall colour.
    """
    local_off = _distance(profile, _stretch_medians(profile))
    local_tolerance = max(OFF_STRETCH_MIN, OFF_STRETCH_FACTOR * float(np.median(local_off)))
    off_colour: BoolMask = _distance(profile, colour[:, None]) > OFF_COLOUR
    return ~off_colour & (local_off <= local_tolerance)


def _stretch_medians(profile: FloatArray) -> FloatArray:
    # The median of each of EDGE_STRETCHES equal stretches, interpolated between stretch centres: a
    # running median's robustness for the price of one median call.
    length = profile.shape[1]
    stretch = max(1, -(-length // EDGE_STRETCHES))
    count = -(-length // stretch)
    padded = np.pad(profile, ((0, 0), (0, count * stretch - length)), mode="edge")
    medians = np.median(padded.reshape(3, count, stretch), axis=2)
    centres = np.arange(count, dtype=np.float32) * stretch + (stretch - 1) / 2
    positions = np.arange(length, dtype=np.float32)
    return np.stack([np.interp(positions, centres, channel) for channel in medians]).astype(np.float32)


def _bridged(profile: FloatArray, on_backdrop: BoolMask) -> FloatArray:
    # Where the garment reaches this edge, bridge the gap from the backdrop on either side.
    if on_backdrop.sum() < 2:
        flat = np.median(profile, axis=1, keepdims=True)
        return np.repeat(flat, profile.shape[1], axis=1).astype(np.float32)
    positions = np.arange(profile.shape[1], dtype=np.float32)
    bridged = np.stack(
        [np.interp(positions, positions[on_backdrop], channel[on_backdrop]) for channel in profile]
    ).astype(np.float32)
    return _moving_average(bridged, BORDER_SMOOTHING)


def _distance(colours: FloatArray, reference: FloatArray) -> FloatArray:
    """RGB Euclidean distance over axis 0 (channels first)."""
    distance: FloatArray = np.sqrt(np.square(colours - reference).sum(axis=0))
    return distance


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
    surface: FloatArray = np.matmul(rows, cols)
    return surface


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
    from scipy import ndimage
    from skimage.measure import label

    # Closing joins a garment split by a thin highlight. No opening: it would erase a necklace chain.
    closed = _erode(_dilate(mask, CLOSE_RADIUS), CLOSE_RADIUS)
    # Small separate parts are specks (dust, a shadowed corner of the backdrop), not garment: they
    # would stretch the box. Parts of similar size (a pair of shoes, earrings) all stay.
    parts = label(closed, connectivity=2)  # type: ignore[no-untyped-call]
    if parts.max() == 0:
        return closed
    areas = np.bincount(parts.ravel())
    areas[0] = 0  # the backdrop
    kept = (areas >= KEEP_PART_SHARE * areas.max())[parts]
    kept[parts == 0] = False
    # Fill holes: backdrop-coloured pixels the garment encloses (a cream shirt's highlights on a
    # cream backdrop) are garment, so isolate_garment does not paint over them.
    filled: BoolMask = ndimage.binary_fill_holes(kept)
    return filled


def _square(radius: int) -> BoolMask:
    return np.ones((2 * radius + 1, 2 * radius + 1), dtype=bool)


def _dilate(mask: BoolMask, radius: int) -> BoolMask:
    from scipy import ndimage

    grown: BoolMask = ndimage.binary_dilation(mask, structure=_square(radius), border_value=0)
    return grown


def _erode(mask: BoolMask, radius: int) -> BoolMask:
    # Beyond the image counts as garment: a garment cut off by the frame is not eaten from its edge.
    from scipy import ndimage

    shrunk: BoolMask = ndimage.binary_erosion(mask, structure=_square(radius), border_value=1)
    return shrunk


def _resized_mask(mask: BoolMask, size: tuple[int, int]) -> BoolMask:
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    # Nearest neighbour: a few working pixels of outline precision are lost, which isolate_garment's
    # soft toning of near-backdrop pixels hides; a smoother resampling costs more than detection.
    resized: BoolMask = np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.NEAREST))
    return resized


def _bounding_box(mask: BoolMask) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _whole_image(
    width: int, height: int, background_rgb: tuple[int, int, int], *, empty: bool = False
) -> Foreground:
    return Foreground(
        box=Box(0, 0, width, height),
        coverage=1.0,
        background_rgb=background_rgb,
        mask=np.ones((height, width), dtype=bool),
        plain_background=False,
        empty=empty,
    )


def _as_rgb(colour: npt.NDArray[np.float32]) -> tuple[int, int, int]:
    red, green, blue = (round(float(channel)) for channel in colour)
    return (red, green, blue)
