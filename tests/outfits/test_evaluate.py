from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def _retrieval_file(catalog: Path, target: Path) -> Path:
    """Questions from the catalog folder's own outfits: the rest of the outfit asks for its bottom."""
    products = {r["cod_modelo_color"]: r for r in csv.DictReader((catalog / "products.csv").open())}
    outfits: dict[str, list[str]] = defaultdict(list)
    for row in csv.DictReader((catalog / "outfits.csv").open()):
        outfits[row["cod_outfit"]].append(row["cod_modelo_color"])
    entries = []
    for outfit, items in outfits.items():
        bottoms = [i for i in items if products[i]["des_product_category"] == "Bottoms"]
        if bottoms:
            rest = [i for i in items if i not in bottoms]
            entries.append(
                {"id": outfit, "query_items": rest, "target_category": "Bottoms", "relevant": bottoms}
            )
    target.write_text(json.dumps(entries))
    return target


def test_retrieval_prints_recall_and_mrr(
    shop_folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _retrieval_file(shop_folders[1], tmp_path / "retrieval.json")
    call_command("evaluate", "retrieval", str(path), "--json", str(tmp_path / "out.json"))
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("recall@10=") and lines[2].startswith("mrr=")
    assert (
        lines[-1].startswith("retrieval recall@10=")
        and "method=library model=ctl-garment-effnetlite0-minilm@" in lines[-1]
    )
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["n"] > 0 and 0.0 <= figures["metrics"]["mrr"] <= 1.0
    # The library was built in the same style rules: the method must beat a random ranking by far.
    assert figures["metrics"]["recall@50"] > 0.3


def test_unsupported_methods_and_bad_files_are_clear(shop_folders: tuple[Path, Path], tmp_path: Path) -> None:
    path = _retrieval_file(shop_folders[1], tmp_path / "retrieval.json")
    with pytest.raises(CommandError, match="no compatibility model is trained"):
        call_command("evaluate", "retrieval", str(path), "--method", "compat")
    with pytest.raises(CommandError, match="no compatibility model is trained"):
        call_command("evaluate", "retrieval", str(path), "--method", "blend")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("evaluate", "retrieval", str(tmp_path / "bad.json"))
    (tmp_path / "unknown.json").write_text(
        json.dumps([{"id": "1", "query_items": ["nope"], "target_category": "Bottoms", "relevant": ["nada"]}])
    )
    with pytest.raises(CommandError, match="no entry could be evaluated"):
        call_command("evaluate", "retrieval", str(tmp_path / "unknown.json"))


def test_naive_cosine_is_measured_beside_the_methods(
    shop_folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _retrieval_file(shop_folders[1], tmp_path / "retrieval.json")
    call_command(
        "evaluate", "retrieval", str(path), "--method", "cosine", "--json", str(tmp_path / "out.json")
    )
    assert "method=cosine" in capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["n"] > 0 and figures["metrics"]["recall@50"] > 0
