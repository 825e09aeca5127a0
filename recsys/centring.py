"""Per-population centring of image embeddings.

A shop photographs its catalog one way (white background, studio light) and the stylists' library
was photographed another way. The vision model puts that photo style into every embedding as a shared
component, so raw cosine similarity across populations measures "same photo studio" as much as "same
garment". Subtracting each population's own mean embedding removes the shared component; the
remainder is re-normalised to unit length, so annoy's angular distance is a cosine of centred vectors.

- The mean is taken over every item of the population, all slots together (the photo style is the
  shop's, not the slot's), from the raw embeddings, and stored with the build.
- An embedding is always centred with the mean of the population it comes from, including when it is
  a query into the other population's index: a catalog top looking for library tops is centred with
  the catalog mean.
- A population with fewer than `CENTRE_MIN_ITEMS` items is not centred (its stored mean is zeros):
  the mean of a handful of photos is mostly those garments, not the photo style, and subtracting it
  would erase them (one item becomes the zero vector, two become exact opposites).
- A vector equal to its mean has no direction left and stays the zero vector; annoy's angular metric
  gives it similarity 0 to everything, which is the honest answer.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

CENTRE_MIN_ITEMS: Final = 10
# Float32 round-off on a 1280-d unit vector is ~1e-7; anything this small is "no direction".
_NO_DIRECTION: Final = 1e-6


def population_mean(total: NDArray[np.float64], count: int, *, min_items: int) -> NDArray[np.float32]:
    """Mean embedding of a population from the sum of its raw embeddings (zeros if too small)."""
    if count < max(min_items, 1):
        return np.zeros(total.shape, dtype=np.float32)
    return (total / count).astype(np.float32)


def centre_rows(rows: NDArray[np.float32], mean: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows minus the mean, each scaled to unit length (zero rows stay zero)."""
    centred = np.asarray(rows, dtype=np.float32) - mean
    norms = np.linalg.norm(centred, axis=-1, keepdims=True)
    no_direction = norms <= _NO_DIRECTION
    np.divide(centred, norms, out=centred, where=~no_direction)
    centred[np.broadcast_to(no_direction, centred.shape)] = 0.0
    return centred
