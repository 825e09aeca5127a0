"""Drawing: a recognisable silhouette per garment kind (PIL polygons in a 240x336 design frame,
supersampled), filled by ``textures`` and photographed on a plain backdrop."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .styles import DemoProduct
from .textures import backdrop, blur, fabric_texture, grain, grid, shift, smooth_noise
from .vocabulary import COLOURS, CREAM, IMAGE_SIZE, PATTERNS, RGB, FloatArray, Point, kind_for, luminance

_SUPERSAMPLE = 2
_BASE_W, _BASE_H = 240.0, 336.0


def _qbez(p0: Point, p1: Point, p2: Point, n: int = 10) -> list[Point]:
    """Points along a quadratic Bezier curve, end points included."""
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def _mirror(left: Sequence[Point]) -> list[Point]:
    """A symmetric outline from its left half, which runs from the centre line back to it."""
    return list(left) + [(_BASE_W - x, y) for x, y in reversed(left)]


def _mx(points: Sequence[Point]) -> list[Point]:
    return [(_BASE_W - x, y) for x, y in points]


class _Canvas:
    """Masks of one garment drawn in a 240x336 design frame, supersampled for smooth edges.

    Layers: ``body`` (the patterned fabric), ``trim`` (a second material such as a sole, in
    ``trim_colour``), ``metal`` (buttons, rivets, clasps), ``stitch`` (contrast thread), ``seam``
    (darker lines), ``light`` (lighter lines), ``shade`` (areas in shadow such as the inside of a
    collar) and ``rib`` (ribbed knit bands).
    """

    LAYERS = ("body", "trim", "metal", "stitch", "seam", "light", "shade", "rib")

    def __init__(self, size: tuple[int, int], rng: np.random.Generator) -> None:
        self.w, self.h = size
        self.rng = rng
        self._sw, self._sh = self.w * _SUPERSAMPLE, self.h * _SUPERSAMPLE
        self._images = {name: Image.new("L", (self._sw, self._sh), 0) for name in self.LAYERS}
        self._draws = {name: ImageDraw.Draw(im) for name, im in self._images.items()}
        self._used: set[str] = set()
        self.colour: RGB = (128, 128, 128)
        self.trim_colour: RGB = (238, 236, 230)
        self.metal_colour: RGB = (196, 164, 92)
        self.stitch_colour: RGB = (196, 136, 62)
        self.gloss = 0.35
        self.place(0.7, 168.0)

    def place(self, scale: float, centre_y: float) -> None:
        """Where the design frame lands in the photo: a product shot leaves a margin around it."""
        jitter = float(self.rng.uniform(0.96, 1.03))
        self._scale = scale * jitter
        self._cx = 120.0 + float(self.rng.uniform(-3, 3))
        self._cy = centre_y + float(self.rng.uniform(-4, 4))

    def _map(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        # One scale for both axes, so a square or landscape photo shows the garment undistorted.
        k = min(self._sw / _BASE_W, self._sh / _BASE_H)
        ox, oy = (self._sw - _BASE_W * k) / 2, (self._sh - _BASE_H * k) / 2
        return [
            (ox + (self._cx + (x - 120.0) * self._scale) * k, oy + (self._cy + (y - 168.0) * self._scale) * k)
            for x, y in points
        ]

    def _width(self, width: float) -> int:
        return max(1, round(width * self._scale * min(self._sw / _BASE_W, self._sh / _BASE_H)))

    def poly(self, layer: str, points: Sequence[Point], value: int = 255) -> None:
        self._used.add(layer)
        self._draws[layer].polygon(self._map(points), fill=value)

    def line(self, layer: str, points: Sequence[Point], width: float = 1.2, value: int = 255) -> None:
        self._used.add(layer)
        self._draws[layer].line(self._map(points), fill=value, width=self._width(width), joint="curve")

    def dashed(self, layer: str, points: Sequence[Point], width: float = 0.9, dash: float = 3.0) -> None:
        """Top-stitching: a dashed line along a polyline."""
        on = True
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            length = math.hypot(x1 - x0, y1 - y0)
            steps = max(1, int(length / dash))
            for i in range(steps):
                if on:
                    a, b = i / steps, (i + 1) / steps
                    self.line(
                        layer,
                        [(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                        width,
                    )
                on = not on

    def ellipse(
        self, layer: str, centre: Point, rx: float, ry: float | None = None, value: int = 255
    ) -> None:
        ry = rx if ry is None else ry
        (x0, y0), (x1, y1) = self._map([(centre[0] - rx, centre[1] - ry), (centre[0] + rx, centre[1] + ry)])
        self._used.add(layer)
        self._draws[layer].ellipse((x0, y0, x1, y1), fill=value)

    def button(self, centre: Point, r: float = 2.6) -> None:
        self.ellipse("metal", centre, r)
        self.ellipse("seam", (centre[0] + 0.4, centre[1] + 0.5), r * 0.35, value=150)

    def masks(self) -> dict[str, FloatArray]:
        """Each layer at the photo's size, as floats in 0..1."""
        out = {}
        for name, im in self._images.items():
            if name not in self._used:
                out[name] = np.zeros((self.h, self.w), dtype=np.float32)
                continue
            small = im.reduce(_SUPERSAMPLE)
            out[name] = np.asarray(small, dtype=np.float32) / 255.0
        return out


# Garments, drawn in the 240x336 design frame (centre x = 120). Every function draws one kind.


def _draw_tshirt(cv: _Canvas) -> None:
    cv.place(0.8, 150)
    w = float(cv.rng.uniform(-4, 4))
    neck_y = 58.0
    left = [
        (120, neck_y - 4),
        (100, neck_y),
        (62 - w, 70),
        (26 - w, 118),
        (48 - w, 134),
        (68 - w, 112),
        (70 - w, 226),
        (120, 228),
    ]
    cv.poly("body", _mirror(left))
    front = _qbez((100, neck_y), (120, neck_y + 30), (140, neck_y), 12)
    back = _qbez((100, neck_y), (120, neck_y - 8), (140, neck_y), 12)
    cv.poly("shade", front + list(reversed(back)), 150)
    inner = _qbez((104, neck_y + 1), (120, neck_y + 24), (136, neck_y + 1), 12)
    cv.poly("rib", front + list(reversed(inner)))
    cv.line("seam", front, 1.0)
    cv.line("seam", inner, 0.7)
    for side in (1, -1):
        pts = [(62 - w, 70), (68 - w, 112)]
        cv.line("seam", pts if side == 1 else _mx(pts), 0.6)
        cuff = [(30 - w, 114), (51 - w, 129)]
        cv.dashed("seam", cuff if side == 1 else _mx(cuff), 0.6)
        fold = [(88, 130), (84, 220)]
        cv.line("light", fold if side == 1 else _mx(fold), 2.0, 50)
    cv.dashed("seam", [(71 - w, 219), (169 + w, 219)], 0.6)


def _draw_top(cv: _Canvas) -> None:
    cv.place(0.72, 168)
    neckline = _qbez((88, 92), (120, 122), (152, 92), 12)
    cv.poly(
        "body",
        [
            (88, 92),
            (72, 114),
            (74, 170),
            (66, 282),
            (120, 288),
            (174, 282),
            (166, 170),
            (168, 114),
            (152, 92),
            *list(reversed(neckline)),
        ],
    )
    back = _qbez((88, 92), (120, 86), (152, 92), 12)
    cv.poly("body", back + list(reversed(neckline)))
    cv.poly("shade", back + list(reversed(neckline)), 160)
    for x in (92, 148):
        cv.line("body", [(x, 94), (x + (-4 if x < 120 else 4), 30)], 2.4)
    cv.line("seam", neckline, 0.9)
    cv.dashed("seam", [(68, 275), (120, 281), (172, 275)], 0.6)
    for x in (100, 140):
        cv.line("light", [(x, 150), (x - 6 if x < 120 else x + 6, 270)], 1.2, 90)


def _draw_shirt(cv: _Canvas, collar: bool = True) -> None:
    cv.place(0.76, 156)
    w = float(cv.rng.uniform(-3, 3))
    left = [
        (120, 48),
        (102, 50),
        (60 - w, 64),
        (24 - w, 236),
        (48 - w, 242),
        (68 - w, 116),
        (68 - w, 250),
        (96, 262),
        (120, 264),
    ]
    cv.poly("body", _mirror(left))
    if collar:
        cv.poly("shade", [(102, 50), (120, 58), (138, 50), (120, 46)], 120)
        for side in (1, -1):
            flap = [(102, 48), (94, 58), (106, 86), (120, 66)]
            cv.poly("body", flap if side == 1 else _mx(flap))
            cv.line("seam", ([*flap, flap[0]]) if side == 1 else _mx([*flap, flap[0]]), 0.8)
        cv.line("seam", [(120, 66), (120, 262)], 0.8)
        cv.line("seam", [(124, 68), (124, 263)], 0.6)
        cv.metal_colour = (238, 234, 222)
        for y in range(92, 256, 30):
            cv.button((121.5, y), 2.0)
        if cv.rng.random() < 0.5:
            cv.line("seam", [(132, 104), (152, 104), (152, 126), (142, 130), (132, 126), (132, 104)], 0.6)
    else:
        neck = _qbez((102, 50), (120, 98), (138, 50), 12)
        back = _qbez((102, 50), (120, 44), (138, 50), 12)
        cv.poly("shade", back + list(reversed(neck)), 150)
        cv.line("seam", neck, 0.8)
        cv.line("light", [(120, 100), (120, 256)], 1.0, 60)
    for side in (1, -1):
        cuff = [(26 - w, 222), (50 - w, 229)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        sleeve = [(60 - w, 64), (68 - w, 116)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
        fold = [(44 - w, 110), (38 - w, 200)]
        cv.line("light", fold if side == 1 else _mx(fold), 2.0, 70)
    cv.dashed("seam", [(70 - w, 244), (96, 255), (120, 257), (144, 255), (170 + w, 244)], 0.6)


def _draw_blouse(cv: _Canvas) -> None:
    _draw_shirt(cv, collar=False)


def _draw_sweater(cv: _Canvas, sweatshirt: bool = False) -> None:
    cv.place(0.78, 154)
    w = float(cv.rng.uniform(-3, 4))
    left = [
        (120, 52),
        (100, 54),
        (58 - w, 70),
        (30 - w, 238),
        (54 - w, 244),
        (64 - w, 122),
        (62 - w, 252),
        (120, 254),
    ]
    cv.poly("body", _mirror(left))
    front = _qbez((100, 54), (120, 80), (140, 54), 12)
    back = _qbez((100, 54), (120, 48), (140, 54), 12)
    cv.poly("shade", back + list(reversed(front)), 150)
    inner = _qbez((104, 56), (120, 74), (136, 56), 12)
    cv.poly("rib", front + list(reversed(inner)))
    cv.line("seam", front, 0.9)
    cv.line("seam", inner, 0.6)
    cv.poly("rib", [(63 - w, 234), (177 + w, 234), (178 + w, 254), (62 - w, 254)])
    cv.line("seam", [(63 - w, 234), (177 + w, 234)], 0.7)
    for side in (1, -1):
        cuff = [(32 - w, 224), (56 - w, 230), (54 - w, 244), (30 - w, 238)]
        cv.poly("rib", cuff if side == 1 else _mx(cuff))
        edge = [(32 - w, 224), (56 - w, 230)]
        cv.line("seam", edge if side == 1 else _mx(edge), 0.7)
        sleeve = [(58 - w, 70), (64 - w, 122)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.7)
    if sweatshirt:
        cv.line("seam", [(114, 80), (120, 90), (126, 80)], 0.8)


def _draw_sweatshirt(cv: _Canvas) -> None:
    _draw_sweater(cv, sweatshirt=True)


def _draw_trousers(cv: _Canvas, jeans: bool = False) -> None:
    cv.place(0.8, 170)
    wide = float(cv.rng.uniform(0, 8)) if not jeans else float(cv.rng.uniform(-6, 0))
    left = [(120, 30), (72, 30), (70, 48), (62 - wide, 318), (114 - wide * 0.2, 318), (120, 138)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(71, 47), (169, 47)], 0.8)
    if jeans:
        for y in (50.0, 314.0):
            cv.dashed("stitch", [(72, y), (168, y)] if y < 100 else [(64 - wide, y), (112, y)], 0.7)
        cv.dashed("stitch", [(128, 314), (176 + wide, 314)], 0.7)
        for side in (1, -1):
            pocket = _qbez((96, 48), (92, 74), (71, 80), 8)
            cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
            cv.dashed(
                "stitch",
                [(p[0] + 2, p[1] + 2) for p in pocket]
                if side == 1
                else _mx([(p[0] + 2, p[1] + 2) for p in pocket]),
                0.6,
            )
            cv.ellipse("metal", (96, 50) if side == 1 else (144, 50), 1.6)
            seam = [(71, 80), (64 - wide, 316)]
            cv.line("light", seam if side == 1 else _mx(seam), 1.0, 70)
        cv.dashed("stitch", [(126, 48), (126, 112), (120, 124)], 0.7)
        cv.line("seam", [(120, 48), (120, 128)], 0.7)
        cv.metal_colour = (176, 140, 86)
        cv.ellipse("metal", (120, 39), 3.0)
        for x in (80, 104, 136, 160):
            cv.line("seam", [(x, 31), (x, 47)], 0.6)
    else:
        cv.metal_colour = (70, 64, 58)
        cv.button((128, 39), 2.4)
        cv.line("seam", [(120, 48), (120, 120)], 0.7)
        cv.line("seam", [(126, 48), (126, 114), (120, 122)], 0.6)
        for side in (1, -1):
            pocket = [(96, 48), (72, 96)]
            cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
            crease = [(92, 60), (88 - wide * 0.6, 316)]
            cv.line("light", crease if side == 1 else _mx(crease), 1.2, 80)
            cv.line(
                "seam",
                [(p[0] + 1.5, p[1]) for p in crease]
                if side == 1
                else _mx([(p[0] + 1.5, p[1]) for p in crease]),
                0.5,
                90,
            )
        for x in (82, 108, 132, 158):
            cv.line("seam", [(x, 31), (x, 47)], 0.5)


def _draw_jeans(cv: _Canvas) -> None:
    _draw_trousers(cv, jeans=True)


def _draw_skirt(cv: _Canvas) -> None:
    cv.place(0.74, 176)
    flare = float(cv.rng.uniform(16, 40))
    hem_y = 262.0
    left = [(120, 42), (76, 42), (76, 58), (76 - flare, hem_y), (100, hem_y + 6), (120, hem_y + 7)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(77, 57), (163, 57)], 0.8)
    cv.metal_colour = (70, 64, 58)
    cv.button((154, 50), 2.2)
    for i, x in enumerate((96, 110, 130, 144)):
        spread = (x - 120) / 44 * flare
        cv.line("light" if i % 2 else "seam", [(x, 60), (x + spread, hem_y + 4)], 1.4 if i % 2 else 0.6, 70)
    cv.dashed("seam", [(80 - flare, hem_y - 7), (120, hem_y), (160 + flare, hem_y - 7)], 0.6)


def _draw_shorts(cv: _Canvas) -> None:
    cv.place(0.76, 150)
    left = [(120, 100), (72, 100), (70, 116), (58, 236), (114, 244), (120, 190)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(71, 115), (169, 115)], 0.8)
    for side in (1, -1):
        cuff = [(60, 222), (114, 230)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        pocket = _qbez((96, 116), (92, 140), (71, 146), 8)
        cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
    cv.line("seam", [(120, 116), (120, 176)], 0.7)
    cv.line("seam", [(126, 116), (126, 168), (120, 176)], 0.6)
    cv.metal_colour = (176, 140, 86)
    cv.ellipse("metal", (120, 108), 2.8)


def _draw_dress(cv: _Canvas) -> None:
    cv.place(0.8, 170)
    strappy = cv.rng.random() < 0.5
    flare = float(cv.rng.uniform(24, 44))
    waist_y = 132.0
    hem_y = 312.0
    if strappy:
        neckline = _qbez((88, 72), (120, 96), (152, 72), 12)
        back = _qbez((88, 72), (120, 66), (152, 72), 12)
        outline = [
            (88, 72),
            (80, 92),
            (86, waist_y),
            (86 - flare, hem_y),
            (120, hem_y + 8),
            (154 + flare, hem_y),
            (154, waist_y),
            (160, 92),
            (152, 72),
        ]
        cv.poly("body", outline + list(reversed(neckline)))
        cv.poly("body", back + list(reversed(neckline)))
        cv.poly("shade", back + list(reversed(neckline)), 160)
        for x in (92, 148):
            cv.line("body", [(x, 74), (x + (-3 if x < 120 else 3), 22)], 2.4)
        cv.line("seam", neckline, 0.8)
    else:
        left = [
            (120, 30),
            (102, 28),
            (74, 40),
            (48, 86),
            (70, 98),
            (82, 78),
            (86, waist_y),
            (86 - flare, hem_y),
            (120, hem_y + 8),
        ]
        cv.poly("body", _mirror(left))
        front = _qbez((102, 28), (120, 56), (138, 28), 12)
        back = _qbez((102, 28), (120, 22), (138, 28), 12)
        cv.poly("shade", back + list(reversed(front)), 150)
        cv.line("seam", front, 0.9)
        for side in (1, -1):
            pts = [(74, 40), (82, 78)]
            cv.line("seam", pts if side == 1 else _mx(pts), 0.6)
    cv.line("seam", [(86, waist_y), (154, waist_y)], 0.8)
    for i, x in enumerate((100, 112, 128, 140)):
        spread = (x - 120) / 34 * flare
        cv.line(
            "light" if i % 2 == 0 else "seam",
            [(x, waist_y + 4), (x + spread, hem_y + 2)],
            1.6 if i % 2 == 0 else 0.6,
            80,
        )
    cv.dashed("seam", [(90 - flare, hem_y - 6), (120, hem_y + 2), (150 + flare, hem_y - 6)], 0.6)


def _lapels(cv: _Canvas, top_y: float, bottom_y: float, notch: bool = True) -> None:
    for side in (1, -1):
        lapel = [
            (104, top_y),
            (90, top_y + 14),
            (98, top_y + 46),
            (92, top_y + 52) if notch else (96, top_y + 50),
            (120, bottom_y),
        ]
        cv.line("seam", lapel if side == 1 else _mx(lapel), 0.9)
        cv.line(
            "light",
            [(p[0] + 1.4, p[1]) for p in lapel[1:]]
            if side == 1
            else _mx([(p[0] + 1.4, p[1]) for p in lapel[1:]]),
            0.8,
            60,
        )
    cv.poly("shade", [(104, top_y), (120, top_y + 6), (136, top_y), (120, bottom_y - 8)], 200)


def _draw_coat(cv: _Canvas, length: float = 322.0, trench: bool = False) -> None:
    cv.place(0.84 if length > 280 else 0.76, 170 if length > 280 else 160)
    w = float(cv.rng.uniform(-2, 4))
    left = [
        (120, 32),
        (104, 32),
        (56 - w, 46),
        (22 - w, 254),
        (50 - w, 262),
        (66 - w, 120),
        (62 - w - (6 if length > 280 else 0), length),
        (120, length + 2),
    ]
    cv.poly("body", _mirror(left))
    _lapels(cv, 32, 136)
    cv.line("seam", [(120, 136), (124, length)], 0.9)
    cv.metal_colour = (58, 44, 34)
    double = trench or cv.rng.random() < 0.5
    for y in np.linspace(150, min(length - 40, 250), 3 if length > 280 else 2):
        if double:
            cv.button((106, float(y)), 3.2)
            cv.button((138, float(y)), 3.2)
        else:
            cv.button((126, float(y)), 3.2)
    for side in (1, -1):
        cuff = [(24 - w, 236), (51 - w, 244)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        flap_y = min(length - 70, 224)
        flap = [(72 - w, flap_y), (102, flap_y), (102, flap_y + 10), (72 - w, flap_y + 10), (72 - w, flap_y)]
        cv.line("seam", flap if side == 1 else _mx(flap), 0.7)
        sleeve = [(56 - w, 46), (66 - w, 120)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
    if trench:
        cv.poly("body", [(64 - w, 168), (176 + w, 168), (176 + w, 180), (64 - w, 180)])
        cv.line("seam", [(64 - w, 168), (176 + w, 168), (176 + w, 180), (64 - w, 180), (64 - w, 168)], 0.8)
        cv.metal_colour = (150, 128, 84)
        cv.poly("metal", [(140, 166), (152, 166), (152, 182), (140, 182)])
        cv.poly("body", [(143, 169), (149, 169), (149, 179), (143, 179)])
        cv.dashed("seam", [(64 - w, 300), (176 + w, 300)], 0.6)


def _draw_trench(cv: _Canvas) -> None:
    _draw_coat(cv, trench=True)


def _draw_blazer(cv: _Canvas) -> None:
    cv.place(0.74, 160)
    w = float(cv.rng.uniform(-2, 3))
    left = [
        (120, 36),
        (104, 36),
        (56 - w, 50),
        (26 - w, 250),
        (52 - w, 258),
        (68 - w, 120),
        (72 - w, 168),
        (66 - w, 262),
        (112, 270),
        (120, 252),
    ]
    cv.poly("body", _mirror(left))
    _lapels(cv, 36, 168)
    cv.line("seam", [(120, 168), (118, 262)], 0.8)
    cv.metal_colour = (40, 36, 34)
    cv.button((124, 176), 3.0)
    if cv.rng.random() < 0.5:
        cv.button((124, 210), 3.0)
    for side in (1, -1):
        flap = [(74 - w, 214), (104, 214), (104, 222), (74 - w, 222), (74 - w, 214)]
        cv.line("seam", flap if side == 1 else _mx(flap), 0.7)
        sleeve = [(56 - w, 50), (68 - w, 120)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
        dart = [(92, 140), (90, 210)]
        cv.line("seam", dart if side == 1 else _mx(dart), 0.5, 120)
    cv.line("seam", [(134, 120), (156, 118)], 0.8)


def _draw_jacket(cv: _Canvas) -> None:
    cv.place(0.76, 158)
    w = float(cv.rng.uniform(-2, 3))
    left = [
        (120, 44),
        (102, 44),
        (58 - w, 58),
        (28 - w, 238),
        (52 - w, 246),
        (68 - w, 126),
        (70 - w, 228),
        (120, 230),
    ]
    cv.poly("body", _mirror(left))
    cv.poly("shade", [(102, 44), (120, 50), (138, 44), (120, 40)], 120)
    for side in (1, -1):
        flap = [(102, 42), (88, 56), (104, 84), (120, 60)]
        cv.poly("body", flap if side == 1 else _mx(flap))
        cv.line("seam", ([*flap, flap[0]]) if side == 1 else _mx([*flap, flap[0]]), 0.8)
        pocket = [(80, 106), (108, 106), (108, 118), (94, 122), (80, 118), (80, 106)]
        cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
        cv.dashed(
            "stitch",
            [(p[0], p[1] + 2) for p in pocket[:3]]
            if side == 1
            else _mx([(p[0], p[1] + 2) for p in pocket[:3]]),
            0.6,
        )
        yoke = [(70 - w, 96), (116, 100)]
        cv.dashed("stitch", yoke if side == 1 else _mx(yoke), 0.6)
        cuff = [(30 - w, 224), (53 - w, 232)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
    cv.line("seam", [(70 - w, 210), (170 + w, 210)], 0.8)
    cv.line("seam", [(120, 60), (120, 230)], 0.8)
    cv.metal_colour = (176, 140, 86)
    for y in (78, 112, 146, 180, 218):
        cv.button((124, y), 2.4)


def _shoe_outline(kind: str) -> tuple[list[Point], list[Point], list[Point]]:
    """Side view of one shoe, toe to the left: (upper, sole or heel in the trim material, opening)."""
    upper: list[Point]
    sole: list[Point]
    opening: list[Point]
    if kind == "trainers":
        upper = [
            (34, 242),
            *_qbez((34, 242), (30, 214), (74, 206), 8),
            (108, 192),
            (142, 170),
            *_qbez((142, 170), (172, 156), (200, 168), 8),
            (210, 204),
            (210, 242),
        ]
        sole = [(30, 238), (212, 238), (212, 252), (200, 262), (48, 262), (32, 254)]
        opening = [(142, 170), (170, 162), (200, 168), (186, 176), (150, 178)]
        return upper, sole, opening
    if kind == "ankle_boots":
        upper = [
            (28, 252),
            *_qbez((28, 252), (24, 222), (70, 216), 8),
            (112, 202),
            (124, 176),
            (124, 128),
            (180, 124),
            (182, 196),
            (188, 240),
            (160, 248),
            (120, 254),
            (60, 258),
        ]
        sole = [
            (26, 250),
            (160, 244),
            (188, 238),
            (192, 268),
            (168, 268),
            (162, 254),
            (120, 258),
            (60, 262),
            (30, 260),
        ]
        opening = [(124, 128), (152, 120), (180, 124), (150, 132)]
        return upper, sole, opening
    if kind == "boots":
        upper = [
            (28, 252),
            *_qbez((28, 252), (24, 222), (70, 216), 8),
            (112, 202),
            (126, 170),
            (122, 40),
            (184, 34),
            (184, 196),
            (188, 240),
            (160, 248),
            (120, 254),
            (60, 258),
        ]
        sole = [
            (26, 250),
            (160, 244),
            (188, 238),
            (192, 268),
            (168, 268),
            (162, 254),
            (120, 258),
            (60, 262),
            (30, 260),
        ]
        opening = [(122, 40), (154, 30), (184, 34), (152, 46)]
        return upper, sole, opening
    # heels and sandals share a stiletto sole; a pump has a closed upper, a sandal straps.
    sole = [
        (16, 258),
        (30, 262),
        (70, 266),
        (130, 248),
        (170, 226),
        (188, 218),
        (190, 224),
        (184, 230),
        (180, 300),
        (172, 300),
        (168, 236),
        (132, 254),
        (72, 272),
        (28, 268),
    ]
    if kind == "heels":
        topline = _qbez((92, 228), (130, 242), (186, 200), 10)
        upper = [
            (16, 258),
            (24, 246),
            (52, 234),
            *topline,
            (192, 208),
            (188, 220),
            (130, 248),
            (70, 266),
            (30, 262),
        ]
        opening = topline + list(reversed(_qbez((96, 232), (132, 248), (184, 208), 10)))
        return upper, sole, opening
    upper = [(20, 256), (34, 238), (62, 230), (80, 260)]
    return upper, sole, []


def _draw_footwear(cv: _Canvas, kind: str) -> None:
    tall = kind == "boots"
    cv.place(0.66 if tall else 0.74, 150 if tall else 168)
    cv.gloss = 0.9
    upper, sole, opening = _shoe_outline(kind)
    if kind == "trainers":
        # White rubber soles, light grey under white uppers so the two parts stay apart.
        cv.trim_colour = (236, 234, 228) if luminance(cv.colour) < 200 else (212, 212, 208)
    elif kind == "sandals":
        cv.trim_colour = (196, 160, 118)  # a natural leather footbed
    else:
        cv.trim_colour = (40, 34, 32)
    strap = [(150, 186), (188, 182), (189, 190), (151, 194)]
    heel_strap = [(174, 186), (184, 186), (190, 220), (178, 226)]
    # The second shoe of the pair stands behind the first, a little up and to the right.
    shift = (22.0, -40.0) if not tall else (26.0, -10.0)
    for dx, dy, behind in ((shift[0], shift[1], True), (0.0, 0.0, False)):

        def moved(points: Sequence[Point], dx: float = dx, dy: float = dy) -> list[Point]:
            return [(x + dx, y + dy) for x, y in points]

        parts = [moved(upper)] + ([moved(strap), moved(heel_strap)] if kind == "sandals" else [])
        if not behind:
            # The front shoe hides whatever of the back shoe lies under it.
            for layer in ("trim", "shade", "rib", "seam"):
                for part in [*parts, moved(sole)]:
                    cv.poly(layer, part, 0)
        for part in parts:
            cv.poly("body", part)
        cv.poly("trim", moved(sole))
        if opening:
            cv.poly("shade", moved(opening), 235)
        if behind:
            for part in [*parts, moved(sole)]:
                cv.poly("shade", part, 110)
        else:
            for part in parts:
                cv.line("seam", [*part, part[0]], 0.7, 160)
            cv.line("seam", [*moved(sole), sole[0]], 0.6, 120)
    if kind == "trainers":
        for i in range(5):
            x = 108 + i * 8
            y = 192 - i * 5.4
            cv.line("seam", [(x - 5, y - 4), (x + 5, y + 4)], 0.9)
        cv.line("seam", _qbez((40, 236), (56, 214), (84, 212), 8), 0.7)
        cv.line("seam", [(150, 232), (176, 190), (206, 200)], 0.8)
    elif kind in ("ankle_boots", "boots"):
        top = 128 if kind == "ankle_boots" else 40
        cv.poly("rib", [(134, top + 14), (154, top + 12), (150, 196), (138, 196)])
        cv.line("seam", [(134, top + 14), (138, 196), (150, 196), (154, top + 12)], 0.7)
        cv.line("seam", [(170, top), (172, top - 10), (180, top - 10), (180, top)], 1.0)


def _draw_handbag(cv: _Canvas) -> None:
    cv.place(0.62, 200)
    cv.gloss = 1.0
    cv.metal_colour = (204, 172, 96)
    cv.line("body", _qbez((84, 150), (120, 58), (156, 150), 16), 8)
    cv.line("seam", _qbez((84, 150), (120, 62), (156, 150), 16), 0.6, 120)
    body = [
        (58, 148),
        (182, 148),
        (194, 272),
        *_qbez((194, 272), (194, 284), (180, 284), 4),
        (60, 284),
        *_qbez((60, 284), (46, 284), (46, 272), 4),
    ]
    cv.poly("body", body)
    flap = [(58, 148), (182, 148), (186, 196), *_qbez((186, 196), (120, 236), (54, 196), 12)]
    cv.line("seam", [*flap, flap[0]], 0.9)
    cv.line("light", [(62, 152), (178, 152)], 1.2, 90)
    cv.poly("metal", [(112, 208), (128, 208), (128, 222), (112, 222)])
    cv.poly("seam", [(116, 212), (124, 212), (124, 218), (116, 218)], 120)
    cv.dashed("seam", [(52, 200), (56, 276), (184, 276), (188, 200)], 0.6)


def _draw_tote(cv: _Canvas) -> None:
    cv.place(0.7, 178)
    cv.gloss = 0.7
    cv.line("body", _qbez((80, 128), (100, 22), (120, 128), 16), 7)
    cv.line("shade", _qbez((80, 128), (100, 22), (120, 128), 16), 7, 110)
    cv.line("body", _qbez((120, 128), (140, 22), (160, 128), 16), 7)
    body = [(40, 126), (200, 126), (190, 300), (50, 300)]
    cv.poly("body", body)
    cv.poly("shade", body, 0)
    cv.poly("shade", [(40, 126), (200, 126), (199, 136), (41, 136)], 90)
    cv.dashed("seam", [(44, 138), (196, 138)], 0.7)
    cv.line("seam", _qbez((120, 128), (140, 26), (160, 128), 16), 0.5, 110)
    cv.line("light", [(70, 150), (76, 290)], 2.0, 50)


def _draw_backpack(cv: _Canvas) -> None:
    cv.place(0.66, 176)
    cv.gloss = 0.6
    cv.metal_colour = (180, 180, 176)
    cv.line("body", _qbez((104, 78), (120, 56), (136, 78), 8), 5)
    for side in (1, -1):
        strap = [(66, 100), (58, 180), (64, 280)]
        cv.line("body", strap if side == 1 else _mx(strap), 8)
        cv.line("shade", strap if side == 1 else _mx(strap), 8, 170)
    body = (
        _qbez((70, 130), (70, 76), (120, 76), 8)
        + _qbez((120, 76), (170, 76), (170, 130), 8)
        + [(176, 290), (64, 290)]
    )
    cv.poly("body", body)
    cv.poly("shade", _qbez((70, 130), (70, 76), (120, 76), 8) + _qbez((120, 76), (170, 76), (170, 130), 8), 0)
    flap = [(76, 96), *_qbez((76, 96), (120, 72), (164, 96), 8), (166, 150), (120, 160), (74, 150)]
    cv.line("seam", [*flap, flap[0]], 0.8)
    pocket = [(84, 196), (156, 196), (160, 276), (80, 276), (84, 196)]
    cv.line("seam", pocket, 0.8)
    cv.line("seam", [(86, 206), (154, 206)], 0.9)
    cv.ellipse("metal", (150, 206), 2.2)
    for x in (100, 140):
        cv.line("seam", [(x, 140), (x, 176)], 1.6)
        cv.poly("metal", [(x - 3, 172), (x + 3, 172), (x + 3, 178), (x - 3, 178)])


_DRAWERS: dict[str, Callable[[_Canvas], None]] = {
    "tshirt": _draw_tshirt,
    "top": _draw_top,
    "shirt": _draw_shirt,
    "blouse": _draw_blouse,
    "sweater": _draw_sweater,
    "sweatshirt": _draw_sweatshirt,
    "trousers": _draw_trousers,
    "jeans": _draw_jeans,
    "skirt": _draw_skirt,
    "shorts": _draw_shorts,
    "dress": _draw_dress,
    "coat": _draw_coat,
    "trench": _draw_trench,
    "blazer": _draw_blazer,
    "jacket": _draw_jacket,
    "trainers": lambda cv: _draw_footwear(cv, "trainers"),
    "ankle_boots": lambda cv: _draw_footwear(cv, "ankle_boots"),
    "boots": lambda cv: _draw_footwear(cv, "boots"),
    "heels": lambda cv: _draw_footwear(cv, "heels"),
    "sandals": lambda cv: _draw_footwear(cv, "sandals"),
    "handbag": _draw_handbag,
    "tote": _draw_tote,
    "backpack": _draw_backpack,
}


def render_garment(
    family: str,
    type_: str,
    colour: tuple[int, int, int],
    pattern: str,
    *,
    background: tuple[int, int, int] = CREAM,
    size: tuple[int, int] = IMAGE_SIZE,
    rng: np.random.Generator | None = None,
    accent: tuple[int, int, int] | None = None,
) -> Image.Image:
    """A product shot of one garment: its silhouette, filled with ``colour`` in ``pattern``, softly
    shaded, on a plain ``background``. ``family``/``type_`` are MANGO's ``des_product_family`` and
    ``des_product_type`` (``"Footwear"``/``"Ankle Boots"``) or a plain name (``"Jeans"``, ``"Sneakers"``,
    ``"Tote bag"``); ``pattern`` is one of ``PATTERNS``; ``accent`` is the second colour of stripes,
    checks and dots (a contrasting default otherwise). Returns an RGB image of ``size`` (w, h).
    Deterministic for the state of ``rng``."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    for name, value in (("colour", colour), ("background", background)) + (
        (("accent", accent),) if accent is not None else ()
    ):
        if len(value) != 3 or not all(0 <= int(c) <= 255 for c in value):
            raise ValueError(f"{name} must be three integers 0..255, got {value!r}")
    if len(size) != 2 or not all(isinstance(v, int) and 16 <= v <= 4096 for v in size):
        raise ValueError(f"size must be (width, height), each 16..4096 pixels; got {size!r}")
    kind = kind_for(family, type_)
    rng = rng if rng is not None else np.random.default_rng(0)
    colour = (int(colour[0]), int(colour[1]), int(colour[2]))
    if accent is None:
        accent = (246, 244, 238) if luminance(colour) < 150 else (34, 42, 72)

    cv = _Canvas(size, rng)
    cv.colour = colour
    _DRAWERS[kind.key](cv)
    m = cv.masks()
    w, h = size

    alpha = np.clip(np.maximum(np.maximum(m["body"], m["trim"]), m["metal"]), 0.0, 1.0)
    # Sizes below are in pixels of the 240x336 design; ``unit`` converts them to this photo's pixels.
    unit = min(w / _BASE_W, h / _BASE_H)
    soft = blur(alpha, 4.0 * unit)
    shadow = blur(shift(alpha, max(1, round(2 * unit)), max(2, round(5 * unit))), 6.0 * unit)
    bg = backdrop(size, background, rng)
    bg *= (1.0 - 0.16 * shadow)[..., None]

    # The garment is coloured only inside its bounding box (with a margin for the rim light).
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if rows.size == 0:
        return Image.fromarray(np.clip(bg + 0.5, 0, 255).astype(np.uint8), "RGB")
    y0, y1 = max(0, int(rows[0]) - 4), min(h, int(rows[-1]) + 5)
    x0, x1 = max(0, int(cols[0]) - 4), min(w, int(cols[-1]) + 5)
    box = (slice(y0, y1), slice(x0, x1))
    yy, xx = grid(h, w)
    yy, xx = yy[box], xx[box]
    mb = {name: layer[box] for name, layer in m.items()}

    col = fabric_texture(kind.key, pattern, colour, accent, yy / unit, xx / unit, rng)
    for name, rgb in (("trim", cv.trim_colour), ("stitch", cv.stitch_colour), ("metal", cv.metal_colour)):
        if mb[name].any():
            amount = mb[name] * mb["body"] if name == "stitch" else mb[name]
            col += (np.array(rgb, dtype=np.float32) - col) * amount[..., None]

    soft_b = soft[box]
    rim_shift = max(1, round(3 * unit))
    rim = np.clip(soft_b - shift(soft, rim_shift, rim_shift)[box], 0.0, 1.0)
    factor = 0.84 + 0.16 * np.clip((soft_b - 0.5) * 2.2, 0.0, 1.0)
    factor *= 1.0 + 0.05 * smooth_noise(h, w, (7, 5), rng)[box]
    factor *= 1.04 - 0.07 * (yy / h) - 0.025 * (xx / w)
    factor *= (1 - 0.42 * mb["seam"]) * (1 - 0.4 * mb["shade"])
    if mb["rib"].any():
        factor *= 1 - 0.16 * mb["rib"] * (0.5 + 0.5 * np.sin(xx * (2 * math.pi / 2.6)))
    col *= factor[..., None]
    col += (
        70.0 * cv.gloss * rim + 55.0 * mb["light"] * (1.0 - mb["seam"]) + 2.2 * grain(y1 - y0, x1 - x0, rng)
    )[..., None]
    bg[box] += (col - bg[box]) * alpha[box][..., None]
    return Image.fromarray(np.clip(bg + 0.5, 0, 255).astype(np.uint8), "RGB")


def render_product(
    product: DemoProduct, *, background: RGB, size: tuple[int, int] = IMAGE_SIZE
) -> Image.Image:
    """The product shot of a demo product; the same product always looks the same."""
    kind = product.garment_kind
    return render_garment(
        kind.family,
        kind.key,
        COLOURS[product.colour].rgb,
        product.pattern,
        background=background,
        size=size,
        rng=np.random.default_rng(product.render_seed),
        accent=COLOURS[product.accent].rgb,
    )
