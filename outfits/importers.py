"""Importers for outfit data set folders (MANGO layout) and labelled catalogs (Myntra layout).

Both are idempotent: items are upserted by their data set id and content-addressed images, so a second
run changes nothing and duplicates nothing. Rows are processed in batches, each batch in its own
transaction, so an interrupted import keeps what it finished. Every row that cannot be imported is
reported with its line number and reason; nothing is skipped silently.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from tqdm import tqdm

from vision.images import ImageRejected
from vision.labels import mango_title

from .categories import CategoryTree, UnmappedCategory, mango_slot, myntra_slot
from .models import CatalogItem, Category, ImageAnalysis, LibraryItem, LibraryOutfit, LibraryOutfitItem
from .photos import photo_check

Role = Literal["library", "catalog"]

MANGO_PRODUCT_COLUMNS = (
    "cod_modelo_color",
    "des_product_category",
    "des_product_family",
    "des_product_type",
    "des_agrup_color_eng",
    "des_fabric",
    "des_filename",
)
MANGO_OUTFIT_COLUMNS = ("cod_outfit", "cod_modelo_color")
MYNTRA_COLUMNS = (
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
    "image",
)


class DatasetError(ValueError):
    """The folder as a whole cannot be imported (missing file or column)."""


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    item_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line} ({self.item_id or 'no id'}): {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    outfits_created: int = 0
    outfits_updated: int = 0
    outfits_unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # Items whose photo is new or changed: these need (re-)analysis.
    changed_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        text = f"items: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.outfits_created or self.outfits_updated or self.outfits_unchanged:
            text += (
                f"; outfits: {self.outfits_created} created, {self.outfits_updated} updated, "
                f"{self.outfits_unchanged} unchanged"
            )
        return text + f"; {len(self.problems)} rows not imported"


@dataclass(frozen=True)
class _Row:
    line: int
    external_id: str
    image_path: Path
    slot_labels: tuple[str, ...]
    family: str
    type_: str
    fields: dict[str, Any]
    attributes: dict[str, str]


def _read_csv(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DatasetError(f"{path} not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in required if column not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path.name} is missing column(s): {', '.join(missing)}")
        # Line 1 is the header; DictReader's line_num counts physical lines, which is what editors see.
        for row in reader:
            yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}


def _price(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


class _ItemImporter:
    """Upserts one kind of garment row, batch by batch."""

    def __init__(
        self,
        model: type[CatalogItem] | type[LibraryItem],
        *,
        source: str,
        slot_of: Callable[..., Any],
        file_name: str,
        report: ImportReport,
    ) -> None:
        self.model = model
        self.source = source
        self.slot_of = slot_of
        self.file_name = file_name
        self.report = report
        self.tree = CategoryTree()
        self.ids: dict[str, int] = {}

    def run(self, rows: Iterable[_Row], *, total: int, batch_size: int, progress: bool) -> None:
        batch: list[_Row] = []
        with tqdm(
            total=total, desc=f"{self.model._meta.verbose_name_plural}", unit="row", disable=not progress
        ) as bar:
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_size:
                    self._batch(batch)
                    bar.update(len(batch))
                    batch = []
            if batch:
                self._batch(batch)
                bar.update(len(batch))

    def _problem(self, row: _Row, reason: str) -> None:
        self.report.problems.append(RowProblem(self.file_name, row.line, row.external_id, reason))

    def _batch(self, rows: list[_Row]) -> None:
        existing = {
            item.external_id: item
            for item in self.model.objects.filter(external_id__in=[r.external_id for r in rows])
        }
        seen: set[str] = set()
        with transaction.atomic():
            for row in rows:
                if row.external_id in seen or row.external_id in self.ids:
                    self._problem(row, "duplicate id in the file; the first row was kept")
                    continue
                seen.add(row.external_id)
                self._upsert(row, existing.get(row.external_id))

    def _category(self, row: _Row) -> Category:
        return self.tree.leaf(self.slot_of(*row.slot_labels), row.family, row.type_)

    def _upsert(self, row: _Row, item: CatalogItem | LibraryItem | None) -> None:
        if not row.external_id:
            self._problem(row, "empty id")
            return
        try:
            category = self._category(row)
        except UnmappedCategory as exc:
            self._problem(row, str(exc))
            return
        try:
            data = row.image_path.read_bytes()
        except OSError as exc:
            self._problem(row, f"cannot read image {row.image_path}: {exc.strerror or exc}")
            return
        sha = hashlib.sha256(data).hexdigest()
        wanted = {
            "category_id": category.pk,
            "attributes": row.attributes,
            "source": self.source,
            **row.fields,
        }
        if (
            item is not None
            and item.image_sha256 == sha
            and all(getattr(item, k) == v for k, v in wanted.items())
        ):
            self.ids[row.external_id] = item.pk
            self.report.unchanged += 1
            return
        name: str | None  # a stored FieldFile's name is typed str | None
        if item is None or item.image_sha256 != sha:
            try:
                # A full decode: truncated files are caught here, with their row, not in a worker later.
                suffix = photo_check(data).suffix
            except ImageRejected as exc:
                self._problem(row, f"image {row.image_path.name}: {exc}")
                return
            name = f"garments/{sha[:2]}/{sha}{suffix}"
            # Content-addressed: the same photo imported twice (library and catalog) is stored once.
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(data))
        else:
            name = item.image.name
        if item is None:
            item = self.model(external_id=row.external_id, image=name, image_sha256=sha, **wanted)
            item.save()
            self.report.created += 1
            self.report.changed_ids.append(item.pk)
        else:
            photo_changed = item.image_sha256 != sha
            for key, value in wanted.items():
                setattr(item, key, value)
            item.image = name
            item.image_sha256 = sha
            item.save()
            self.report.updated += 1
            if photo_changed:
                self.report.changed_ids.append(item.pk)
        self.ids[row.external_id] = item.pk


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _mango_rows(folder: Path, role: Role) -> Iterator[_Row]:
    known = set(MANGO_PRODUCT_COLUMNS)
    for line, row in _read_csv(folder / "products.csv", MANGO_PRODUCT_COLUMNS):
        attributes = {key: value for key, value in row.items() if key not in known and value}
        attributes["colour"] = row["des_agrup_color_eng"]
        attributes["fabric"] = row["des_fabric"]
        attributes["category"] = row["des_product_category"]
        fields: dict[str, Any] = {}
        if role == "catalog":
            # MANGO rows have no title: the shopper's words the garment model was trained on
            # ("camel woven coat"), so a made-up title reads like the model's own descriptions.
            fields = {
                "title": attributes.pop("title", "") or mango_title(row).capitalize(),
                "brand": attributes.pop("brand", ""),
                "price": _price(attributes.pop("price", "")),
                "gender": attributes.pop("des_sex", ""),
            }
        yield _Row(
            line=line,
            external_id=row["cod_modelo_color"],
            image_path=folder / row["des_filename"],
            slot_labels=(row["des_product_category"], row["des_product_family"]),
            family=row["des_product_family"],
            type_=row["des_product_type"],
            fields=fields,
            attributes=attributes,
        )


def _myntra_rows(folder: Path) -> Iterator[_Row]:
    for line, row in _read_csv(folder / "styles.csv", MYNTRA_COLUMNS):
        attributes = {
            "colour": row["baseColour"],
            "season": row["season"],
            "year": row["year"],
            "usage": row["usage"],
            "master_category": row["masterCategory"],
            "sub_category": row["subCategory"],
        }
        yield _Row(
            line=line,
            external_id=row["id"],
            image_path=folder / (row["image"] or f"images/{row['id']}.jpg"),
            slot_labels=(row["masterCategory"], row["subCategory"], row["articleType"]),
            family=row["subCategory"],
            type_=row["articleType"],
            fields={"title": row["productDisplayName"], "gender": row["gender"], "brand": "", "price": None},
            attributes={key: value for key, value in attributes.items() if value},
        )


def import_mango(
    folder: Path,
    *,
    role: Role,
    source: str,
    outfit_status: str = LibraryOutfit.Status.APPROVED,
    batch_size: int = 200,
    progress: bool = False,
) -> ImportReport:
    """Import a MANGO-layout folder as the library (items and outfits) or as catalog items.

    Side effects: creates/updates rows and stores images under MEDIA_ROOT. Re-running changes
    nothing. An outfit's review status is set only when it is created: editors' decisions stay.
    """
    folder = Path(folder)
    report = ImportReport()
    model: type[CatalogItem] | type[LibraryItem] = LibraryItem if role == "library" else CatalogItem
    importer = _ItemImporter(
        model, source=source, slot_of=mango_slot, file_name="products.csv", report=report
    )
    total = _count_lines(folder / "products.csv") if (folder / "products.csv").is_file() else 0
    importer.run(_mango_rows(folder, role), total=total, batch_size=batch_size, progress=progress)
    if role == "library":
        _import_outfits(folder, importer.ids, source=source, status=outfit_status, report=report)
    return report


def import_myntra(
    folder: Path, *, source: str, batch_size: int = 200, progress: bool = False
) -> ImportReport:
    """Import a Myntra-layout labelled catalog (styles.csv + images) as catalog items."""
    folder = Path(folder)
    report = ImportReport()
    importer = _ItemImporter(
        CatalogItem, source=source, slot_of=myntra_slot, file_name="styles.csv", report=report
    )
    total = _count_lines(folder / "styles.csv") if (folder / "styles.csv").is_file() else 0
    importer.run(_myntra_rows(folder), total=total, batch_size=batch_size, progress=progress)
    return report


def _import_outfits(
    folder: Path, item_ids: dict[str, int], *, source: str, status: str, report: ImportReport
) -> None:
    members: dict[str, list[int]] = defaultdict(list)
    broken: dict[str, RowProblem] = {}
    for line, row in _read_csv(folder / "outfits.csv", MANGO_OUTFIT_COLUMNS):
        outfit_code, product = row["cod_outfit"], row["cod_modelo_color"]
        if product not in item_ids:
            broken.setdefault(
                outfit_code,
                RowProblem(
                    "outfits.csv",
                    line,
                    product,
                    f"outfit {outfit_code} skipped: product {product} is not among the imported products",
                ),
            )
            continue
        if item_ids[product] not in members[outfit_code]:
            members[outfit_code].append(item_ids[product])
    report.problems.extend(broken.values())
    wanted = {outfit: ids for outfit, ids in members.items() if outfit not in broken}
    existing = {
        o.external_id: o for o in LibraryOutfit.objects.filter(source=source, external_id__in=list(wanted))
    }
    current: dict[int, list[int]] = defaultdict(list)
    for outfit_pk, item_pk in (
        LibraryOutfitItem.objects.filter(outfit__in=list(existing.values()))
        .values_list("outfit_id", "item_id")
        .order_by("outfit_id", "position")
    ):
        current[outfit_pk].append(item_pk)
    with transaction.atomic():
        for external_id, ids in wanted.items():
            outfit = existing.get(external_id)
            if outfit is None:
                outfit = LibraryOutfit.objects.create(source=source, external_id=external_id, status=status)
                report.outfits_created += 1
            elif current[outfit.pk] == ids:
                report.outfits_unchanged += 1
                continue
            else:
                LibraryOutfitItem.objects.filter(outfit=outfit).delete()
                report.outfits_updated += 1
            LibraryOutfitItem.objects.bulk_create(
                LibraryOutfitItem(outfit=outfit, item_id=item_pk, position=position)
                for position, item_pk in enumerate(ids)
            )


def refresh_planner_statistics() -> None:
    """After a bulk load, let PostgreSQL re-plan with real row counts instead of waiting for
    autovacuum: right after a first import it estimates a handful of rows and picks nested loops
    that make every suggestion several times slower."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for model in (CatalogItem, LibraryItem, LibraryOutfit, LibraryOutfitItem, Category, ImageAnalysis)
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))
