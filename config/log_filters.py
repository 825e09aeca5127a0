"""Logging filters for LOGGING: start-up lines a user would otherwise learn to ignore.

open_clip (3.x) logs through the root logger (``logging.info(...)`` in its modules), so its chatter
cannot be turned down by logger name; its records are told apart by the file that made them. Its
warnings stay, but for "Model ... initialized partially.": vision.registry builds our model from
the packaged ImageNet and MiniLM tower weights on purpose (and logs that in its own words), so open_clip's
note that not every weight came from one checkpoint is expected every time.
"""

from __future__ import annotations

import logging
import os

_OPEN_CLIP = f"{os.sep}open_clip{os.sep}"


class QuietOpenClip(logging.Filter):
    """Drops open_clip's INFO lines and its expected "initialized partially" warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _OPEN_CLIP not in record.pathname:
            return True
        if record.levelno < logging.WARNING:
            return False
        return not record.getMessage().endswith("initialized partially.")
