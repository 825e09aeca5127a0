"""An independent, name-based mapping of the packaged EfficientNet-Lite0 tensors to timm's names.

The production code maps by position; tests check it against this translation, written from the
two naming schemes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import timm
import torch
from timm.models.efficientnet import EfficientNet

# How the packaged file names a block's layers (EfficientNet-PyTorch style) -> timm's names.
SEPARABLE_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
INVERTED_RESIDUAL_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
OUTSIDE_BLOCKS = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2"}


def name_in_timm(source_name: str, stage_sizes: list[int]) -> str:
    """An independent mapping by name: what the tensor is called in timm, from what it is called here."""
    if source_name.startswith("_fc."):
        return source_name.replace("_fc.", "classifier.")
    block = re.match(r"_blocks\.(\d+)\.(\w+)\.(.+)", source_name)
    if block is None:
        layer, parameter = source_name.split(".", 1)
        return f"{OUTSIDE_BLOCKS[layer]}.{parameter}"
    index, layer, parameter = int(block[1]), block[2], block[3]
    for stage, size in enumerate(stage_sizes):
        if index < size:
            names = SEPARABLE_BLOCK if stage == 0 else INVERTED_RESIDUAL_BLOCK
            return f"blocks.{stage}.{index}.{names[layer]}.{parameter}"
        index -= size
    raise AssertionError(f"block index out of range in {source_name}")


def imagenet_reference(source: Mapping[str, torch.Tensor]) -> EfficientNet:
    """A plain timm ImageNet classifier holding the packaged weights, placed by name."""
    model = timm.create_model("tf_efficientnet_lite0", num_classes=1000)
    assert isinstance(model, EfficientNet)
    model.load_state_dict({name_in_timm(name, stage_sizes(model)): t for name, t in source.items()})
    return model.eval()


def stage_sizes(model: EfficientNet) -> list[int]:
    return [len(stage) for stage in model.blocks]  # type: ignore[arg-type]
