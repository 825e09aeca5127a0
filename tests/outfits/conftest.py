"""The shop every Django test starts from: a small library and catalog, analysed by the real model,
with a real Annoy build active. Made once per run, right after the test database is created."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from selenium import webdriver

from outfits import categories, services
from outfits.importers import import_mango
from outfits.models import ApiKey, CatalogItem, LibraryItem
from tests.factories import small_shop
from tests.outfits.browser import chromium


@pytest.fixture(scope="session")
def shop_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_shop(tmp_path_factory.mktemp("shop"))


def train_tiny_model(library: Path, catalog: Path) -> None:
    """A real garment model, trained for half a minute on the small shop's photos and activated, so
    photos are classified by the real pipeline (no stand-in). Both folders and 8 epochs: the library
    alone holds about 60 training garments, too few for every kind the tests upload (a model trained
    on it for 4 epochs took jeans for a bag)."""
    from vision.train import TrainSettings, train_garment_model

    train_garment_model(
        [library, catalog],
        models_dir=Path(settings.MODELS_DIR),
        settings=TrainSettings(max_epochs=8, patience=8, validation_share=0.2, test_share=0.1),
        progress=False,
        report=lambda line: None,
    )


def build_shop(library: Path, catalog: Path) -> None:
    """Import, analyse (real model) and index the small shop. Idempotent, so a transactional test
    whose database was flushed by an earlier one can call it again cheaply."""
    lib = import_mango(library, role="library", source="test-library")
    cat = import_mango(catalog, role="catalog", source="test-catalog")
    assert not lib.problems and not cat.problems
    services.garments_analyze(kind="library", ids=list(LibraryItem.objects.values_list("pk", flat=True)))
    services.garments_analyze(kind="catalog", ids=list(CatalogItem.objects.values_list("pk", flat=True)))
    build = services.index_build_request(enqueue=False)
    done = services.index_build_run(build_pk=build.pk)
    assert done is not None and done.status == "ready", done and done.error


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: Any, django_db_blocker: Any, shop_folders: tuple[Path, Path]
) -> Iterator[None]:
    # Fresh files for a fresh database: nothing from an earlier run can leak into this one.
    models = Path(settings.MODELS_DIR)
    for folder in (
        settings.MEDIA_ROOT,
        settings.PRIVATE_MEDIA_ROOT,
        settings.INDEX_DIR,
        models / "garment",
        models / "compat",
    ):
        shutil.rmtree(folder, ignore_errors=True)
    train_tiny_model(*shop_folders)
    with django_db_blocker.unblock():
        build_shop(*shop_folders)
    yield


@pytest.fixture
def live_shop(transactional_db: None, shop_folders: tuple[Path, Path]) -> None:
    """The shop for tests that commit (a worker or a browser must see the rows). pytest-django runs
    these after the others and flushes the database after each, so each rebuilds the shop."""
    build_shop(*shop_folders)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_category_tree() -> None:
    # A test's categories go with its transaction: the next test must not find them remembered.
    categories._recent = (-float("inf"), categories.CategoryTree())


@pytest.fixture
def answers_not_cached(settings: Any) -> None:
    """For tests that compare ways of making an answer: each request is answered, not replayed
    from outfits.answer_cache."""
    settings.CTL_ANSWER_CACHE_SECONDS = 0


@pytest.fixture
def storefront(db: None) -> APIClient:
    _, raw = ApiKey.issue("test storefront")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.fixture
def editor_user(db: None) -> Any:
    user = get_user_model().objects.create_user("editor", password="x", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def editor(editor_user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor_user).key}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A desktop-sized Chromium for the project's browser tests."""
    driver = chromium()
    yield driver
    driver.quit()
