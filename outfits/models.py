"""The shop's rows: catalog, curated library, category tree, image analyses, index builds, looks."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from typing import ClassVar

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .look_photos import private_storage
from .origins import normalize_origins


class Slot(models.TextChoices):
    """Where a garment sits in an outfit: the unit of "complete the look"."""

    TOP = "top", "Top"
    BOTTOM = "bottom", "Bottom"
    DRESS = "dress", "Dress"
    OUTERWEAR = "outerwear", "Outerwear"
    SHOES = "shoes", "Shoes"
    BAG = "bag", "Bag"
    ACCESSORY = "accessory", "Accessory"


class Category(models.Model):
    """Category tree: slot → family → type. Items point at a type; every node knows its slot."""

    class Level(models.TextChoices):
        SLOT = "slot", "Slot"
        FAMILY = "family", "Family"
        TYPE = "type", "Type"

    name = models.CharField(max_length=120)
    level = models.CharField(max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Denormalised from the root so "items of slot X" is one join, not a tree walk.
    slot = models.CharField(max_length=16, choices=Slot.choices, db_index=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering: ClassVar = ["slot", "level", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_unique_root_name"
            ),
            models.CheckConstraint(
                condition=Q(level="slot", parent__isnull=True) | (~Q(level="slot") & Q(parent__isnull=False)),
                name="category_only_slots_are_roots",
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        parts = [self.name]
        node = self.parent
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " > ".join(reversed(parts))


class Garment(models.Model):
    """What catalog items and library items share: a photo of one garment, in one category."""

    external_id = models.CharField(max_length=120, unique=True, help_text="The data set's or shop's own id.")
    source = models.CharField(max_length=80, db_index=True, help_text="Where the row came from.")
    image = models.ImageField(upload_to="garments/", max_length=255)
    image_sha256 = models.CharField(max_length=64, db_index=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def slot(self) -> str:
        return self.category.slot


class CatalogItem(Garment):
    """Something the shop sells."""

    title = models.CharField(max_length=300, blank=True)
    brand = models.CharField(max_length=120, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    gender = models.CharField(max_length=20, blank=True)
    in_stock = models.BooleanField(default=True, db_index=True)
    link = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}".strip()


class QualityVerdict(models.TextChoices):
    """The quality filter's (or an editor's) word on a photo: fit for the curated library or not."""

    KEEP = "keep", "Keep"
    REJECT = "reject", "Reject"


class LibraryItem(Garment):
    """A product photo that appears in the curated fashion library. Not for sale."""

    # An editor's decision that overrides the quality filter's verdict; empty: the filter decides.
    quality_override = models.CharField(max_length=6, choices=QualityVerdict.choices, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return self.external_id


class LibraryOutfit(models.Model):
    """A stylist-built look. Only approved outfits of good enough photos drive suggestions."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    external_id = models.CharField(max_length=120)
    source = models.CharField(max_length=80, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # The weakest analysed photo of the outfit: one bad photo spoils the look on a storefront.
    quality_score = models.FloatField(null=True, blank=True)
    # "reject" when any piece's photo is rejected (by the filter, unless an editor overrode it):
    # such an outfit never feeds suggestions. Empty until its photos are analysed.
    quality_verdict = models.CharField(
        max_length=6, choices=QualityVerdict.choices, blank=True, db_index=True
    )
    items = models.ManyToManyField(LibraryItem, through="LibraryOutfitItem", related_name="outfits")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["source", "external_id"], name="library_outfit_unique_source_id"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class LibraryOutfitItem(models.Model):
    outfit = models.ForeignKey(LibraryOutfit, on_delete=models.CASCADE, related_name="memberships")
    item = models.ForeignKey(LibraryItem, on_delete=models.PROTECT, related_name="memberships")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["outfit", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["outfit", "item"], name="library_outfit_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.outfit} ∋ {self.item}"


class JobStatus(models.TextChoices):
    """Where a worker's job on one row stands (a look, an outfit photo): claimed by jobs.claim."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Lease(models.Model):
    """The claim on a job row (outfits.jobs): which attempt holds it, until when, and how often it was
    tried. A worker renews its lease while it works; a lapsed lease means nobody works on the row."""

    # Attempts claimed so far (outfits.jobs.claim adds one); past CTL_JOB_MAX_ATTEMPTS the row fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    # "host:pid:token" of the attempt that holds (or last held) the row: only it may write the result.
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When its task was last sent: the sweep sends a PENDING row again once this is long past.
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class OutfitPhoto(Lease):
    """A stylist's outfit photo, uploaded by an editor: a worker finds its garments and makes it a
    pending library outfit whose pieces are the garments' crops, scored by the quality filter and
    waiting in the admin's quality queue."""

    Status = JobStatus

    image = models.ImageField(upload_to="outfit-photos/%Y/%m/", max_length=255)
    image_sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=80, db_index=True)
    # The file's name as uploaded: editors recognise their photos by it.
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    outfit = models.OneToOneField(
        LibraryOutfit, null=True, blank=True, on_delete=models.SET_NULL, related_name="photo"
    )
    photo_kind = models.CharField(max_length=10, blank=True)
    # Every garment found in the photo, in reading order: position, part, box (in the photo's
    # pixels), slot, confidence, placed, reason. The placed ones are the outfit's pieces.
    garments = models.JSONField(default=list, blank=True)
    # The whole photo's problems (vision.outfit_quality): low resolution, dark or cluttered
    # background, not a full outfit, a garment cut off.
    quality_score = models.FloatField(null=True, blank=True)
    quality_problems = models.JSONField(default=list, blank=True)
    # An editor's word that overrides the photo's problems ("keep": fine for the library after all).
    quality_override = models.CharField(max_length=6, choices=QualityVerdict.choices, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["source", "image_sha256"], name="outfit_photo_unique_in_source"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.filename or self.image_sha256[:12]} ({self.status})"


class LookRequest(Lease):
    """A shopper's uploaded photo, analysed asynchronously by a GPU worker."""

    Status = JobStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A shopper's own photo: private storage, served by the API only (outfits.look_photos).
    image = models.ImageField(upload_to="looks/%Y/%m/", storage=private_storage, max_length=255)
    image_sha256 = models.CharField(max_length=64)
    # What the shopper told us about the photo; empty means "work it out".
    garment_slot = models.CharField(max_length=16, choices=Slot.choices, blank=True)
    wanted_slots = models.JSONField(default=list, blank=True)
    k = models.PositiveSmallIntegerField(default=8)
    # compat, library or blend; empty: the blend when the index holds a compatibility model.
    method = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    # Who made the look, and so who may read it (outfits.selectors.looks_for): the storefront key, or
    # the editor; editors read every look.
    api_key = models.ForeignKey("ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"look {self.id} ({self.status})"


class GarmentReading(models.Model):
    """What the garment model read of one garment: where it is, its category path, attributes,
    quality and embedding. A photo's analysis holds its main garment's reading; each garment found
    in a photo of several (a look, an outfit photo) has a GarmentRegion with its own."""

    box = models.JSONField(null=True, blank=True, help_text="[x0, y0, x1, y1] of the garment in pixels.")
    predicted_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Confidence of the predicted node's whole path (slot → family → type).
    category_confidence = models.FloatField(null=True, blank=True)
    # The model's reading of the photo: slot, family and type with confidences, every slot's score
    # and the likeliest types (vision.garment_heads.GarmentPrediction). Empty when the model cannot
    # classify (the untrained base).
    predictions = models.JSONField(default=dict, blank=True)
    # Predicted attributes: name → the likeliest values → probability ({"colour_group": {"GREY": 0.9}}).
    attributes = models.JSONField(default=dict, blank=True)
    quality_score = models.FloatField(null=True, blank=True)
    quality_problems = models.JSONField(default=list, blank=True)
    quality_verdict = models.CharField(max_length=6, choices=QualityVerdict.choices, blank=True)
    # Which grader: the learned filter's build id, or "hand-set" (no filter trained yet).
    quality_method = models.CharField(max_length=80, blank=True)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    dim = models.PositiveIntegerField(default=0)
    # The garment in words (its title, else its predicted colour, fabric and type) and that text's
    # float32 embedding from the aligned text tower: an input of the compatibility model. Empty for
    # models whose towers are not aligned.
    description = models.CharField(max_length=300, blank=True)
    text_embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def vector(self) -> np.ndarray:
        return embedding_vector(self.embedding or b"")

    @property
    def predicted_slot(self) -> str:
        return self.predicted_category.slot if self.predicted_category is not None else ""


class ImageAnalysis(GarmentReading):
    """What the vision model saw in one photo, under one model spec.

    Exactly one subject (catalog item, library item or look). The spec is stored with every
    embedding so two model versions never mix in one index.
    """

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    catalog_item = models.ForeignKey(
        CatalogItem, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    library_item = models.ForeignKey(
        LibraryItem, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    look = models.ForeignKey(
        LookRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    model_spec = models.CharField(max_length=120, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    image_sha256 = models.CharField(max_length=64)
    foreground_coverage = models.FloatField(null=True, blank=True)
    background_rgb = models.JSONField(null=True, blank=True)
    # What kind of photo it is (vision.regions.PhotoKind: product, person, flat-lay, empty); empty
    # for catalog and library product photos, which are read as one product.
    photo_kind = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: serving asks for the catalog's analyses saved since the active build (fresh items).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name_plural = "image analyses"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    Q(catalog_item__isnull=False, library_item__isnull=True, look__isnull=True)
                    | Q(catalog_item__isnull=True, library_item__isnull=False, look__isnull=True)
                    | Q(catalog_item__isnull=True, library_item__isnull=True, look__isnull=False)
                ),
                name="analysis_has_exactly_one_subject",
            ),
            models.UniqueConstraint(
                fields=["catalog_item", "model_spec"],
                condition=Q(catalog_item__isnull=False),
                name="analysis_unique_catalog_item_spec",
            ),
            models.UniqueConstraint(
                fields=["library_item", "model_spec"],
                condition=Q(library_item__isnull=False),
                name="analysis_unique_library_item_spec",
            ),
            models.UniqueConstraint(
                fields=["look", "model_spec"],
                condition=Q(look__isnull=False),
                name="analysis_unique_look_spec",
            ),
        ]

    def __str__(self) -> str:
        return f"analysis {self.pk} ({self.model_spec}, {self.status})"


class GarmentRegion(GarmentReading):
    """One garment found in a photo of several: its part of the photo and the model's reading of
    its own crop. Placed regions feed suggestions; the others say why not."""

    analysis = models.ForeignKey(ImageAnalysis, on_delete=models.CASCADE, related_name="regions")
    position = models.PositiveSmallIntegerField()
    # product (a flat-lay or a product shot), or the body part it was found on: upper, lower, full, feet.
    part = models.CharField(max_length=10)
    # Share of the box that is garment (the mask's summary: the mask itself is not kept).
    mask_share = models.FloatField()
    slot = models.CharField(max_length=16, choices=Slot.choices, blank=True)
    slot_confidence = models.FloatField(default=0.0)
    # The garment gate's probability that the region shows a garment; null without a gate.
    garment_odds = models.FloatField(null=True, blank=True)
    placed = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["analysis", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["analysis", "position"], name="garment_region_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.analysis}: {self.part} {self.slot or '?'}"


def embedding_vector(blob: bytes | memoryview) -> np.ndarray:
    """A stored embedding (float32 bytes of an ImageAnalysis) as a vector: the one place that reads
    the format."""
    return np.frombuffer(bytes(blob), dtype=np.float32).copy()


class IndexBuild(Lease):
    """One Annoy build over catalog and library, one index per slot. At most one is active."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    build_id = models.CharField(max_length=64, unique=True)
    model_spec = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    active = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # Share of the answers worked out ahead of time (recsys.answers), 0..1, while building.
    progress = models.FloatField(default=0.0)
    started_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="index_build_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"build {self.build_id} ({self.status}{', active' if self.active else ''})"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A storefront's key. Only its hash is stored; the key is shown once, at creation.

    A secret key is for the shop's servers: it reads everything a storefront may read and never
    leaves the server. A public key is for the shop's pages, where anyone can read it: it works only
    from a browser on one of its allowed origins (outfits.api.auth), only on the views a widget and
    the shop-the-look page need, and it is throttled per shopper's address as well as per key."""

    class Kind(models.TextChoices):
        SECRET = "secret", "Secret (server)"
        PUBLIC = "public", "Public (browser)"

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.SECRET)
    # Origins in the spelling browsers send (outfits.origins.normalize_origin); public keys only.
    allowed_origins = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.PUBLIC

    def allows_origin(self, origin: str) -> bool:
        return origin in (self.allowed_origins or [])

    @classmethod
    def issue(cls, name: str, *, kind: str = Kind.SECRET, origins: Iterable[str] = ()) -> tuple[ApiKey, str]:
        """A new key and its raw value. A public key needs at least one origin; a secret key none.
        Raises ValidationError for a malformed origin."""
        allowed = normalize_origins(origins)
        if kind == cls.Kind.PUBLIC and not allowed:
            raise ValidationError("a public key needs at least one allowed origin (https://shop.example)")
        if kind == cls.Kind.SECRET and allowed:
            raise ValidationError("a secret key is for servers: it has no allowed origins")
        prefix = secrets.token_hex(4)
        # Public keys say so in their text: a shop can tell at a glance which one may go in a page.
        kind_tag = "pub_" if kind == cls.Kind.PUBLIC else ""
        raw = f"ctl_{kind_tag}{prefix}_{secrets.token_urlsafe(24)}"
        key = cls.objects.create(
            name=name, prefix=prefix, key_hash=_hash_key(raw), kind=kind, allowed_origins=allowed
        )
        return key, raw

    @classmethod
    def find(cls, raw: str) -> ApiKey | None:
        return cls.objects.filter(key_hash=_hash_key(raw), active=True).first()


class CategoryReview(models.Model):
    """A garment whose stated category the trained model disagrees with: an editor accepts the
    suggested category in one click or dismisses it. A dismissed suggestion stays dismissed when the
    audit runs again (one row per garment, stated and suggested category)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    catalog_item = models.ForeignKey(
        CatalogItem, null=True, blank=True, on_delete=models.CASCADE, related_name="category_reviews"
    )
    library_item = models.ForeignKey(
        LibraryItem, null=True, blank=True, on_delete=models.CASCADE, related_name="category_reviews"
    )
    model_spec = models.CharField(max_length=120)
    stated = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    suggested = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    # How likely the stated category is wrong (model confidence weighed by validation confusion).
    confidence = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-confidence"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    Q(catalog_item__isnull=False, library_item__isnull=True)
                    | Q(catalog_item__isnull=True, library_item__isnull=False)
                ),
                name="category_review_has_exactly_one_garment",
            ),
            models.UniqueConstraint(
                fields=["catalog_item", "stated", "suggested"],
                condition=Q(catalog_item__isnull=False),
                name="category_review_unique_catalog",
            ),
            models.UniqueConstraint(
                fields=["library_item", "stated", "suggested"],
                condition=Q(library_item__isnull=False),
                name="category_review_unique_library",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.garment}: {self.stated} → {self.suggested} ({self.status})"

    @property
    def garment(self) -> CatalogItem | LibraryItem:
        item = self.catalog_item or self.library_item
        assert item is not None
        return item


class QualityQueueOutfit(LibraryOutfit):
    """The quality queue's view of library outfits (outfits.admin_queues): the pending ones, with the
    quality filter's score and reasons. A proxy: the same rows and permissions as LibraryOutfit."""

    class Meta:
        proxy = True
        verbose_name = "quality queue outfit"
        verbose_name_plural = "quality queue"


class IndexStatus(IndexBuild):
    """The admin's index status page (outfits.admin_queues): the active build, what changed since,
    a rebuild button. A proxy of IndexBuild so the page has its own entry on the admin index."""

    class Meta:
        proxy = True
        verbose_name = "index status"
        verbose_name_plural = "index status"
