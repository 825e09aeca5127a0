from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from . import views

app_name = "api"

# Shop ids may hold dots and dashes ("41085800-02"); anything but a slash.
ITEM = r"items/(?P<external_id>[^/]+)"

urlpatterns = [
    path("items/", views.CatalogItemList.as_view(), name="item-list"),
    path("items/bulk/", views.CatalogBulkUpsert.as_view(), name="item-bulk-upsert"),
    re_path(rf"^{ITEM}/complete-the-look/?$", views.CompleteTheLook.as_view(), name="item-complete-the-look"),
    re_path(rf"^{ITEM}/similar/?$", views.SimilarItems.as_view(), name="item-similar"),
    re_path(rf"^{ITEM}/$", views.CatalogItemDetail.as_view(), name="item-detail"),
    re_path(r"^complete-the-look/?$", views.OutfitComplete.as_view(), name="outfit-complete"),
    path("search/", views.CatalogSearch.as_view(), name="search"),
    path("looks/", views.LookCreate.as_view(), name="look-create"),
    path("looks/<uuid:pk>/", views.LookDetail.as_view(), name="look-detail"),
    path("looks/<uuid:pk>/photo", views.LookPhoto.as_view(), name="look-photo"),
    path("library/outfits/", views.LibraryOutfitList.as_view(), name="outfit-list"),
    path("library/outfits/<int:pk>/", views.LibraryOutfitDetail.as_view(), name="outfit-detail"),
    # The contract is public; the data behind it is not.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="redoc",
    ),
]
