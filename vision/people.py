"""Garments worn by a person: one region per body part, from pose landmarks and a person mask.

MediaPipe Pose (mediapipe==0.10.21 ships its weights inside the package) gives 33 body
landmarks with a visibility each and a person segmentation mask, in about 30 ms per photo on a CPU.
Garments follow the body, so each worn garment is looked for where the body says it is:

    upper   shoulders down to the hips: a top or outerwear
    lower   hips down to the ankles (knees, when the feet are out of the photo): a bottom
    full    shoulders down to the end of the lower region: a dress or jumpsuit; the classifier
            decides between it and upper + lower
    feet    around ankles, heels and toes: shoes

Each region's box spans the person mask's columns over the region's rows (so a wide coat is framed
whole), and its mask is the person mask inside the box. A part whose landmarks are not visible
(hips out of frame, feet cut off) gives no region rather than a guess.

Plain arrays in, regions out; mediapipe is imported when the first photo is read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .detect import Box

BoolMask = npt.NDArray[np.bool_]

# MediaPipe Pose landmark indices.
SHOULDERS: Final = (11, 12)
HIPS: Final = (23, 24)
KNEES: Final = (25, 26)
ANKLES: Final = (27, 28)
FEET: Final = (27, 28, 29, 30, 31, 32)  # ankles, heels, toes
VISIBLE: Final = 0.5  # a landmark below this visibility is treated as out of the photo
PERSON_MASK: Final = 0.5  # segmentation probability that counts as person
MIN_PERSON_SHARE: Final = 0.02  # a person mask smaller than this share of the photo is no person
# Regions reach a little past their landmarks: a collar sits above the shoulder points, a hem below
# the knee. As shares of the torso length (shoulders to hips).
ABOVE_SHOULDERS: Final = 0.15
BELOW_HIPS_OVERLAP: Final = 0.1
FOOT_MARGIN: Final = 0.25
# Pose finds a "person" in some product shots (a tie, a flip-flop), with the skeleton squeezed onto
# the object: shoulders a few pixels apart. A worn garment's wearer spans more of the photo.
MIN_SHOULDER_SHARE: Final = 0.06  # of the photo's width


@dataclass(frozen=True)
class BodyRegion:
    part: str  # upper, lower, full or feet
    box: Box
    mask: BoolMask  # the person inside the box; shape (box.height, box.width)


@dataclass(frozen=True)
class Pose:
    """Landmarks in pixels with their visibility, and the person mask, of one photo."""

    points: npt.NDArray[np.float32]  # (33, 3): x, y, visibility
    person: BoolMask  # (height, width)

    def visible(self, indices: tuple[int, ...]) -> bool:
        return bool(np.all(self.points[list(indices), 2] >= VISIBLE))

    def y(self, indices: tuple[int, ...]) -> float:
        return float(self.points[list(indices), 1].mean())


class PoseReader:
    """MediaPipe Pose, loaded once per process and shared behind a lock (it is not thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pose: Any = None

    def read(self, rgb: npt.NDArray[np.uint8]) -> Pose | None:
        """The pose of the most prominent person in an RGB photo (h, w, 3), or None."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 photo (h, w, 3), got {rgb.shape} {rgb.dtype}")
        with self._lock:
            if self._pose is None:
                import mediapipe as mp  # workers only: the web process never reads poses

                self._pose = mp.solutions.pose.Pose(
                    static_image_mode=True, model_complexity=1, enable_segmentation=True
                )
            found = self._pose.process(np.ascontiguousarray(rgb))
        if found.pose_landmarks is None or found.segmentation_mask is None:
            return None
        height, width = rgb.shape[:2]
        points = np.array(
            [(p.x * width, p.y * height, p.visibility) for p in found.pose_landmarks.landmark],
            dtype=np.float32,
        )
        person = np.asarray(found.segmentation_mask) > PERSON_MASK
        if person.mean() < MIN_PERSON_SHARE:
            return None
        return Pose(points=points, person=person)


def body_regions(pose: Pose) -> list[BodyRegion]:
    """The regions a worn garment can occupy, top to bottom (see the module docstring)."""
    height, width = pose.person.shape
    if not pose.visible(SHOULDERS):
        return []
    if abs(float(pose.points[11, 0] - pose.points[12, 0])) < MIN_SHOULDER_SHARE * width:
        return []
    shoulders = pose.y(SHOULDERS)
    regions: list[BodyRegion] = []
    hips_visible = pose.visible(HIPS)
    torso = (pose.y(HIPS) - shoulders) if hips_visible else 0.0
    top = max(0.0, shoulders - ABOVE_SHOULDERS * max(torso, 0.1 * height))
    upper_end = pose.y(HIPS) + BELOW_HIPS_OVERLAP * torso if hips_visible else float(height)
    _add(regions, "upper", pose, top, upper_end)
    if hips_visible and torso > 0:
        if pose.visible(ANKLES):
            lower_end = pose.y(ANKLES)
        elif pose.visible(KNEES):
            lower_end = pose.y(KNEES) + (pose.y(KNEES) - pose.y(HIPS)) * 0.5
        else:
            lower_end = float(height)
        _add(regions, "lower", pose, pose.y(HIPS) - BELOW_HIPS_OVERLAP * torso, lower_end)
        _add(regions, "full", pose, top, lower_end)
    if pose.visible(FEET[:2]):
        _add_feet(regions, pose, torso if torso > 0 else 0.3 * height)
    return regions


def _add(regions: list[BodyRegion], part: str, pose: Pose, y0: float, y1: float) -> None:
    height = pose.person.shape[0]
    top, bottom = max(0, int(y0)), min(height, int(np.ceil(y1)))
    if bottom - top < 2:
        return
    band = pose.person[top:bottom]
    columns = np.flatnonzero(band.any(axis=0))
    if columns.size == 0:
        return
    box = Box(int(columns[0]), top, int(columns[-1]) + 1, bottom)
    regions.append(BodyRegion(part, box, pose.person[box.y0 : box.y1, box.x0 : box.x1].copy()))


def _add_feet(regions: list[BodyRegion], pose: Pose, torso: float) -> None:
    height, width = pose.person.shape
    visible = pose.points[list(FEET)]
    visible = visible[visible[:, 2] >= VISIBLE]
    margin = FOOT_MARGIN * torso
    x0, y0 = np.maximum(visible[:, :2].min(axis=0) - margin, 0)
    x1, y1 = visible[:, :2].max(axis=0) + margin
    box = Box(int(x0), int(y0), min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1))))
    if box.width < 2 or box.height < 2:
        return
    regions.append(BodyRegion("feet", box, pose.person[box.y0 : box.y1, box.x0 : box.x1].copy()))
