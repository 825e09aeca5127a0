"""The mislabel audit's review queue in the admin (CategoryReviewAdmin): accept a suggested
category or dismiss it, per row or in bulk, each decision in the admin log."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, QuerySet, Value, When
from django.db.models.expressions import OrderBy
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .admin_base import thumbnail
from .models import CategoryReview

if TYPE_CHECKING:
    from .admin_base import AuthenticatedHttpRequest


class GarmentKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("catalog", "Catalog items"), ("library", "Library items")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("catalog", "library"):
            return queryset.filter(**{f"{self.value()}_item__isnull": False})
        return queryset


@admin.register(CategoryReview)
class CategoryReviewAdmin(admin.ModelAdmin):
    """The mislabel audit's queue (`manage.py audit_categories` fills it): open reviews first, the
    likeliest mislabels first. An editor accepts the suggested category or dismisses it, per row in
    one click or in bulk; every decision is written to the admin log. Rows are the model's: read-only.
    """

    list_display = (
        "thumb",
        "external_id",
        "kind",
        "correction",
        "confidence_",
        "status",
        "reviewed_by",
        "decide",
    )
    list_display_links = ("external_id",)
    list_filter = ("status", GarmentKindFilter)
    search_fields = ("catalog_item__external_id", "library_item__external_id")
    list_select_related = (
        "catalog_item",
        "library_item",
        "stated__parent__parent",
        "suggested__parent__parent",
        "reviewed_by",
    )
    readonly_fields = (
        "preview",
        "garment_link",
        "stated",
        "suggested",
        "confidence",
        "model_spec",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = ("accept", "dismiss")

    def get_ordering(self, request: HttpRequest) -> tuple[str | OrderBy, ...]:
        # Open reviews first: an expression, which `ordering` (checked for model fields) cannot hold.
        open_first = Case(When(status=CategoryReview.Status.OPEN, then=Value(0)), default=Value(1))
        return (open_first.asc(), "-confidence", "pk")

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        shown = tuple(super().get_list_display(request))
        if not self.has_change_permission(request):
            return tuple(f for f in shown if f != "decide")
        # The buttons depend on who asks; a display callable gets the row only, so this request's
        # column is a closure over its rights (never self.request: one admin serves all threads).
        return tuple(self._decide_column(request) if f == "decide" else f for f in shown)

    def _decide_column(self, request: HttpRequest) -> Callable[[CategoryReview], str]:
        """The buttons column for one request by staff who may change reviews: Dismiss on open
        reviews, Accept only where they may also change the garment's model (as _decide checks)."""
        garments = ("catalogitem", "libraryitem")
        may_recategorise = {model: request.user.has_perm(f"outfits.change_{model}") for model in garments}

        @admin.display(description="review")
        def decide(obj: CategoryReview) -> str:
            may_accept = may_recategorise["catalogitem" if obj.catalog_item_id else "libraryitem"]
            return self.decide(obj, may_accept=may_accept, may_dismiss=True)

        return decide

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="photo")
    def thumb(self, obj: CategoryReview) -> str:
        return thumbnail(obj.garment.image, alt=obj.garment.external_id)

    @admin.display(description="photo")
    def preview(self, obj: CategoryReview) -> str:
        return thumbnail(obj.garment.image, 280, alt=obj.garment.external_id)

    @admin.display(description="external id")
    def external_id(self, obj: CategoryReview) -> str:
        return obj.garment.external_id

    @admin.display(description="kind")
    def kind(self, obj: CategoryReview) -> str:
        return "catalog" if obj.catalog_item_id else "library"

    @admin.display(description="garment")
    def garment_link(self, obj: CategoryReview) -> str:
        garment = obj.garment
        url = reverse(f"admin:outfits_{garment._meta.model_name}_change", args=[garment.pk])
        return format_html('<a href="{}">{}</a>', url, garment)

    @admin.display(description="stated → suggested")
    def correction(self, obj: CategoryReview) -> str:
        return format_html("{} → <strong>{}</strong>", obj.stated.path, obj.suggested.path)

    @admin.display(description="confidence", ordering="confidence")
    def confidence_(self, obj: CategoryReview) -> str:
        return f"{obj.confidence:.3f}"

    @admin.display(description="review")
    def decide(self, obj: CategoryReview, *, may_accept: bool = False, may_dismiss: bool = False) -> str:
        """A row's buttons; none unless the caller says the user may (get_list_display does)."""
        # The changelist is one <form> already (it carries the CSRF token) and forms cannot nest, so
        # each button posts that form to its own review's view instead.
        choices = []
        if may_accept and obj.status != CategoryReview.Status.ACCEPTED:
            choices.append(("accept", "Accept"))
        if may_dismiss and obj.status == CategoryReview.Status.OPEN:
            choices.append(("dismiss", "Dismiss"))
        return (
            format_html_join(
                " ",
                '<button type="submit" class="button" formaction="{}" formmethod="post">{}</button>',
                (
                    (reverse(f"admin:outfits_categoryreview_{name}", args=[obj.pk]), label)
                    for name, label in choices
                ),
            )
            or "—"
        )

    def get_urls(self) -> list[URLPattern]:
        def view(decision: str) -> Any:
            return self.admin_site.admin_view(partial(self.decide_view, decision=decision))

        return [
            path("<int:review_id>/accept/", view("accept"), name="outfits_categoryreview_accept"),
            path("<int:review_id>/dismiss/", view("dismiss"), name="outfits_categoryreview_dismiss"),
            *super().get_urls(),
        ]

    def decide_view(
        self, request: AuthenticatedHttpRequest, review_id: int, *, decision: str
    ) -> HttpResponseBase:
        """One click on a row's Accept or Dismiss (POST only; the admin site checks CSRF and staff)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = self.get_object(request, str(review_id))
        if review is None:
            raise Http404(f"no category review {review_id}")
        if not self.has_change_permission(request, review):
            raise PermissionDenied
        self._decide(request, [review], decision)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse("admin:outfits_categoryreview_changelist")
        return HttpResponseRedirect(back)

    @admin.action(description="Accept the suggested categories", permissions=["change"])
    def accept(self, request: AuthenticatedHttpRequest, queryset: QuerySet[CategoryReview]) -> None:
        self._decide(request, list(queryset), "accept")

    @admin.action(description="Dismiss the suggestions (the stated categories stand)", permissions=["change"])
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: QuerySet[CategoryReview]) -> None:
        self._decide(request, list(queryset), "dismiss")

    def _decide(
        self, request: AuthenticatedHttpRequest, reviews: list[CategoryReview], decision: str
    ) -> None:
        refused = 0
        if decision == "accept":
            # Accepting recategorises the garment: catalog data needs the catalog item's own right.
            allowed = [
                r for r in reviews if request.user.has_perm(f"outfits.change_{r.garment._meta.model_name}")
            ]
            refused, reviews = len(reviews) - len(allowed), allowed
        ids = [review.pk for review in reviews]
        if decision == "accept":
            outcome = services.category_review_accept(review_ids=ids, reviewer=request.user)
        else:
            outcome = services.category_review_dismiss(review_ids=ids, reviewer=request.user)
        by_pk = {review.pk: review for review in reviews}
        for pk in outcome.reviews:
            review = by_pk[pk]
            if decision == "accept":
                change = f"category {review.stated.path} → {review.suggested.path} (mislabel audit)"
                self.log_change(request, review, f"Accepted: {change}")
                self.log_change(request, review.garment, f"Changed {change}")
            else:
                self.log_change(request, review, f"Dismissed: {review.suggested.path} suggested")
        done = "accepted" if decision == "accept" else "dismissed"
        text = f"{len(outcome.reviews)} suggestions {done}."
        if outcome.skipped:
            text += f" {outcome.skipped} skipped (already decided, or the garment was recategorised since)."
        if refused:
            text += f" {refused} refused: changing their garments' category needs that model's permission."
        if outcome.slots_changed:
            text += f" {outcome.slots_changed} garments changed slot: rebuild the index to place them."
        self.message_user(
            request, text, messages.SUCCESS if outcome.reviews and not refused else messages.WARNING
        )
