"""The API against its own OpenAPI schema: schemathesis generates requests for every operation, valid
and invalid, sends them through the Django app in this process, and runs all of its checks on each
answer (no 5xx; every status code, content type, header and body is the one the schema documents;
invalid input is rejected and valid input accepted). Once as a storefront (an API key) and once as an
editor (a token), against the small shop every test starts from. Deterministic: the same cases every
run (`-m fuzz` selects it)."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import positive_data_acceptance

from outfits.models import ApiKey, CatalogItem, LibraryOutfit

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# Generated cases per operation, besides schemathesis's coverage cases (each parameter's edges and
# wrong types, each documented value): about 3000 requests in all, a minute and a half of calls on a
# shared 2-core machine.
EXAMPLES_PER_OPERATION = 25


# Schema-valid input these operations rightly answer with a 400, for reasons no schema can state;
# every other check still runs on them.
REFUSED_FOR_MEANING = {
    "GET /api/v1/items/{external_id}/complete-the-look/": "a slot that cannot complete the garment; "
    "price_min above price_max",
    "POST /api/v1/complete-the-look/": "unknown item or look ids; slots the outfit cannot take",
    "POST /api/v1/items/bulk/": "a photo that is not an image; an unknown category",
    "POST /api/v1/looks/": "a photo that is not an image",
}


def api_schema() -> dict[str, Any]:
    """The schema the API serves at /api/v1/schema/, made here without a request (and so without
    touching the database or the throttle's counters while pytest collects)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def fuzz_config() -> schemathesis.Config:
    config = schemathesis.Config()
    config.projects.default.generation.update(
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        database="none",
        # The test sends real credentials of each kind; made-up ones would be a storefront key or an
        # editor's session cookie the API rightly ignores beside the real one.
        with_security_parameters=False,
    )
    return config


schema = schemathesis.openapi.from_dict(api_schema(), config=fuzz_config())
schema.app = WSGIHandler()

# An id as the schema allows it: 1 to 120 characters, no slash, no control character.
DOCUMENTED_ITEM_ID = re.compile(r"[^/\x00-\x1f\x7f]{1,120}")


def shop_item_id(made_up: str) -> str:
    """An id of the shop's for a made-up one, the same each time."""
    ids = list(CatalogItem.objects.order_by("pk").values_list("external_id", flat=True))
    return ids[zlib.crc32(made_up.encode()) % len(ids)]


@schema.hook
def map_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Most made-up ids name nothing: three in four valid ones are swapped for an id of the shop (the
    same for the same made-up id), so the fuzzing reaches the suggestions and not only their 404.
    Invalid ids are left as they are: those cases are about refusing them."""
    if not path_parameters:
        return path_parameters
    mapped = dict(path_parameters)
    made_up = mapped.get("external_id")
    documented = isinstance(made_up, str) and DOCUMENTED_ITEM_ID.fullmatch(made_up)
    if documented and zlib.crc32(str(made_up).encode()) % 4:
        mapped["external_id"] = shop_item_id(str(made_up))
    made_up = mapped.get("id")
    library = context.operation is not None and "library" in context.operation.path
    if library and isinstance(made_up, int) and made_up % 4:
        pks = list(LibraryOutfit.objects.order_by("pk").values_list("pk", flat=True))
        mapped["id"] = pks[made_up % len(pks)]
    return mapped


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection() -> Iterator[None]:
    """The app closes its database connection after each request; here each must stay in the test's
    transaction, where the shop is (Django's test client does the same)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=["storefront", "editor"])
def credentials(request: pytest.FixtureRequest, editor_user: Any) -> dict[str, str]:
    if request.param == "storefront":
        _, raw = ApiKey.issue("fuzzing storefront")
        return {"X-Api-Key": raw}
    return {"Authorization": f"Token {Token.objects.create(user=editor_user).key}"}


@schema.parametrize()
# The credentials hold for every case of an operation: made once per test, not once per case.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_answer_is_one_the_schema_documents(
    case: schemathesis.Case, credentials: dict[str, str]
) -> None:
    excluded = [positive_data_acceptance] if case.operation.label in REFUSED_FOR_MEANING else []
    case.call_and_validate(headers=credentials, excluded_checks=excluded)
