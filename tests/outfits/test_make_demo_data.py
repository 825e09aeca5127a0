"""python manage.py make_demo_data: the demo generator's command (no database)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _run_command(*argv: str) -> str:
    from io import StringIO

    from outfits.management.commands.make_demo_data import Command

    out = StringIO()
    command = Command(stdout=out)
    options = vars(command.create_parser("manage.py", "make_demo_data").parse_args(list(argv)))
    command.execute(**options)
    return out.getvalue()


def test_command_writes_a_data_set_and_prints_one_line(tmp_path: Path) -> None:
    output = _run_command(
        str(tmp_path / "cat"), "--outfits", "5", "--seed", "2", "--background", "grey", "--prefix", "C"
    )
    assert output.count("\n") == 1
    assert "5 outfits" in output and "prefix C" in output
    rows = _read(tmp_path / "cat" / "products.csv")
    assert rows and all(r["cod_modelo_color"].startswith("C") for r in rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--outfits", "0"], "--outfits"),
        (["--background", "purple"], "--background"),
        (["--prefix", "x1"], "id_prefix"),
    ],
)
def test_command_reports_bad_arguments(tmp_path: Path, argv: list[str], message: str) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        _run_command(str(tmp_path / "d"), *argv)


def test_command_refuses_a_foreign_folder(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="refusing to overwrite"):
        _run_command(str(tmp_path))
