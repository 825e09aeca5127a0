"""Each data set the demo serves gets a folder (database, photos, indexes, models) of its own."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from demo.places import GENERATED, data_set_name, data_set_var_dir


def test_the_generated_data_and_a_real_data_set_never_share_a_folder(tmp_path: Path) -> None:
    real = tmp_path / "mango-old"
    real.mkdir()
    generated = data_set_var_dir(tmp_path / "var", None)
    served = data_set_var_dir(tmp_path / "var", real)
    assert generated == tmp_path / "var" / "demo" / GENERATED
    assert served.parent == generated.parent
    assert served != generated
    assert served.name.startswith("mango-old-")


def test_two_folders_of_one_name_get_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "images").mkdir(parents=True)
    (tmp_path / "b" / "images").mkdir(parents=True)
    assert data_set_name(tmp_path / "a" / "images") != data_set_name(tmp_path / "b" / "images")


def test_a_folder_spelled_another_way_is_the_same_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "shop"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path)
    names = {
        data_set_name(real),
        data_set_name(Path("shop")),
        data_set_name(Path("shop" + os.sep)),
        data_set_name(Path("link")),
    }
    assert len(names) == 1


def test_one_folder_read_with_another_layout_is_another_data_set(tmp_path: Path) -> None:
    assert data_set_name(tmp_path, "mango") != data_set_name(tmp_path, "myntra")


def test_a_folder_name_becomes_a_safe_folder_name(tmp_path: Path) -> None:
    odd = tmp_path / "Spring 2026 / Ünïcode"
    odd.mkdir(parents=True)
    name = data_set_name(odd)
    assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{8}", name), name


def test_the_command_prints_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from demo.places import main

    main(["--root", str(tmp_path), "--data", str(tmp_path)])
    assert capsys.readouterr().out.strip() == str(data_set_var_dir(tmp_path, tmp_path))
