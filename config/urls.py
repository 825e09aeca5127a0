from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from outfits import demo_storefront, demo_views, widget

admin.site.site_header = "Complete the look — editors"
admin.site.site_title = "Complete the look"

# Every API error is JSON, also for a path no view matches.
handler404 = "outfits.api.errors.not_found"
handler500 = "outfits.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("outfits.api.urls", namespace="api")),
    path("healthz", demo_views.healthz, name="healthz"),
    # The storefront widget: a stable loader (5 minutes) and each release under its hash (a year).
    path("widget/ctl-widget.js", widget.loader, name="widget-loader"),
    path("widget/ctl-widget.<str:digest>.js", widget.hashed, name="widget-hashed"),
]

if settings.CTL_DEMO_PAGE:
    urlpatterns += [
        path("", demo_views.home, name="demo-home"),
        path("demo/items/<str:external_id>/", demo_views.item, name="demo-item"),
        path("demo/shop/", demo_storefront.shop, name="demo-shop"),
        path("demo/shop/<str:external_id>/", demo_storefront.product, name="demo-shop-product"),
        path("shop-the-look/", demo_views.shop_the_look, name="shop-the-look"),
    ]

if settings.CTL_SERVE_MEDIA:
    # The embedded default serves photos itself; production puts a web server or CDN in front.
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
