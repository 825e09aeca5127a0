"""The OpenAPI schema documents every error an operation can give, with the body the API sends."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_every_operation_documents_its_callers_errors(schema: dict[str, Any]) -> None:
    for label, operation in operations(schema).items():
        responses = operation["responses"]
        assert {"401", "403", "429"} <= set(responses), label
        for code, response in responses.items():
            if code >= "400":
                body = response["content"]["application/json"]["schema"]
                if body != {"$ref": ERROR_REF}:  # an error body with more to say (the bulk upsert's 400)
                    own = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
                    assert own["required"] == ["detail"] and "errors" in own["properties"], label
                assert response["description"], label


@pytest.mark.parametrize(
    ("label", "codes"),
    [
        ("GET /api/v1/items/", {"400", "404"}),
        ("GET /api/v1/items/{external_id}/", {"400", "404"}),
        ("GET /api/v1/items/{external_id}/complete-the-look/", {"400", "404", "409", "503"}),
        ("GET /api/v1/items/{external_id}/similar/", {"400", "404", "409", "503"}),
        ("POST /api/v1/complete-the-look/", {"400", "409", "413", "415", "503"}),
        ("GET /api/v1/search/", {"400", "503"}),
        ("POST /api/v1/items/bulk/", {"400", "413", "415"}),
        ("POST /api/v1/looks/", {"400", "413", "415"}),
        ("GET /api/v1/looks/{id}/", {"404"}),
        ("GET /api/v1/library/outfits/{id}/", {"404"}),
    ],
)
def test_an_operation_documents_the_errors_of_its_kind(
    schema: dict[str, Any], label: str, codes: set[str]
) -> None:
    assert codes <= set(operations(schema)[label]["responses"])


def test_a_typed_path_id_is_never_a_400(schema: dict[str, Any]) -> None:
    # A uuid or an integer that does not match is no view's: a 404.
    assert "400" not in operations(schema)["GET /api/v1/looks/{id}/"]["responses"]


def test_the_error_component_is_what_the_api_sends(
    schema: dict[str, Any], storefront: APIClient, anonymous: APIClient
) -> None:
    component = schema["components"]["schemas"]["Error"]
    bodies = [
        storefront.get("/api/v1/items/", {"slot": "hat"}).json(),  # field errors
        storefront.post("/api/v1/complete-the-look/", "{", content_type="application/json").json(),
        anonymous.get("/api/v1/items/").json(),
        storefront.get("/api/v1/items/no-such-item/").json(),
        storefront.post("/api/v1/items/bulk/", {"items": []}, format="json").json(),
    ]
    assert "errors" in bodies[0]
    for body in bodies:
        jsonschema.validate(body, component)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"detail": ["a list"]}, component)


def parameter_schema(schema: dict[str, Any], label: str, name: str) -> dict[str, Any]:
    (parameter,) = [p for p in operations(schema)[label]["parameters"] if p["name"] == name]
    return parameter["schema"]


def documented(value: Any, field_schema: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(value, field_schema)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("value", [0, -2, 1])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_page_parameters_are_documented_from_1(
    schema: dict[str, Any], storefront: APIClient, name: str, value: int
) -> None:
    # A page_size under 1 is a 400 and a page under 1 a 404: the schema says neither is valid.
    assert documented(value, parameter_schema(schema, "GET /api/v1/items/", name)) == (value >= 1)
    assert (storefront.get("/api/v1/items/", {name: value}).status_code == 200) == (value >= 1)


@pytest.mark.parametrize(
    ("external_id", "valid"),
    [("no-such-item", True), ("41085800-02.v2", True), ("ctrl\x15id", False), ("x" * 121, False)],
)
@pytest.mark.parametrize("path", ["items/{}/", "items/{}/complete-the-look/", "items/{}/similar/"])
def test_the_documented_item_id_is_the_one_the_api_takes(
    schema: dict[str, Any], storefront: APIClient, path: str, external_id: str, valid: bool
) -> None:
    label = "GET /api/v1/" + path.format("{external_id}")
    assert documented(external_id, parameter_schema(schema, label, "external_id")) == valid
    status = storefront.get("/api/v1/" + path.format(external_id)).status_code
    assert status == (404 if valid else 400)


@pytest.mark.parametrize(("price", "valid"), [("", False), ("-1", False), ("12", True), ("12.50", True)])
def test_the_documented_price_is_the_one_the_api_takes(
    schema: dict[str, Any], storefront: APIClient, price: str, valid: bool
) -> None:
    # drf-spectacular's own pattern for a decimal matched "" (every digit optional), a 400.
    body_schema = schema["components"]["schemas"]["OutfitCompleteRequestRequest"]
    assert documented(price, body_schema["properties"]["price_min"]) == valid
    response = storefront.post("/api/v1/complete-the-look/", {"price_min": price}, format="json")
    assert ("price_min" not in response.json().get("errors", {})) == valid


def test_the_bulk_upsert_documents_its_1_to_500_items(schema: dict[str, Any]) -> None:
    items = schema["components"]["schemas"]["CatalogBulkUpsertRequest"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 500)


def test_a_look_photo_is_documented_as_a_multipart_upload_only(schema: dict[str, Any]) -> None:
    # A urlencoded form cannot carry the photo: documenting it invited requests that are always 400s.
    assert list(operations(schema)["POST /api/v1/looks/"]["requestBody"]["content"]) == [
        "multipart/form-data"
    ]
