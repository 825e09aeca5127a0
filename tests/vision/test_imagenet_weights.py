"""The positional mapping of the packaged EfficientNet-Lite0 weights onto timm's backbone."""

from __future__ import annotations

import re

import pytest
import timm
import torch
from timm.models.efficientnet import EfficientNet

from tests.vision.timm_names import name_in_timm, stage_sizes
from vision.imagenet_weights import (
    SOURCE_TENSORS,
    WeightMappingError,
    classifier_weights,
    load_efficientnet_lite0_weights,
    map_backbone_weights,
)


@pytest.fixture(scope="module")
def source() -> dict[str, torch.Tensor]:
    return load_efficientnet_lite0_weights()


@pytest.fixture(scope="module")
def reference() -> EfficientNet:
    model = timm.create_model("tf_efficientnet_lite0", num_classes=1000)
    assert isinstance(model, EfficientNet)
    return model


@pytest.fixture(scope="module")
def backbone_state() -> dict[str, torch.Tensor]:
    return timm.create_model("tf_efficientnet_lite0", num_classes=0).state_dict()


def test_source_has_296_tensors(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor]
) -> None:
    assert len(source) == SOURCE_TENSORS == len(backbone_state) + 2


def test_maps_every_backbone_tensor_with_its_shape(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor]
) -> None:
    mapped = map_backbone_weights(source, backbone_state)
    assert list(mapped) == list(backbone_state)
    assert all(mapped[name].shape == backbone_state[name].shape for name in mapped)


def test_position_agrees_with_an_independent_mapping_by_name(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor], reference: EfficientNet
) -> None:
    by_position = map_backbone_weights(source, backbone_state)
    by_name = {name_in_timm(name, stage_sizes(reference)): tensor for name, tensor in source.items()}
    assert set(by_name) == set(reference.state_dict())
    for target_name, tensor in by_position.items():
        assert by_name[target_name] is tensor, target_name
    weight, bias = classifier_weights(source)
    assert by_name["classifier.weight"] is weight and by_name["classifier.bias"] is bias


def test_rejects_a_source_with_missing_tensors(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor]
) -> None:
    shorter = dict(list(source.items())[:-3])
    with pytest.raises(
        WeightMappingError, match=re.escape("the source has 293 tensors, the backbone needs 294")
    ):
        map_backbone_weights(shorter, backbone_state)


def test_rejects_a_shape_mismatch(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor]
) -> None:
    broken = dict(source)
    broken["_conv_stem.weight"] = torch.zeros(16, 3, 3, 3)
    with pytest.raises(
        WeightMappingError, match=r"tensor 0: source _conv_stem.weight has shape \(16, 3, 3, 3\)"
    ):
        map_backbone_weights(broken, backbone_state)


def test_rejects_same_shaped_tensors_in_swapped_roles(
    source: dict[str, torch.Tensor], backbone_state: dict[str, torch.Tensor]
) -> None:
    items = list(source.items())
    items[3], items[4] = items[4], items[3]  # _bn0.running_mean <-> _bn0.running_var, both (32,)
    message = (
        "tensor 3: source _bn0.running_var is a running_var, backbone bn1.running_mean is a running_mean"
    )
    with pytest.raises(WeightMappingError, match=re.escape(message)):
        map_backbone_weights(dict(items), backbone_state)
