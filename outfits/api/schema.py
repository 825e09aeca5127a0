"""The OpenAPI schema's own rules: how storefronts authenticate, and which errors every operation
documents. The errors a whole kind of operation can give (a body that does not parse, a caller with
no key, a throttled one) are added here, in one place; a view names only the errors of its own
(`extend_schema(responses={..., **error_responses(409, 503)})`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .errors import ErrorSerializer

# What each error status means here; a view may say more for its own.
ERROR_MEANINGS = {
    400: "Invalid input: `detail` names the fields, `errors` holds each field's messages.",
    401: "No API key or editor's token was sent, or it is unknown or revoked.",
    403: (
        "The caller may not do this (a storefront key writing, an editor without the rights, a public "
        "key from an origin it does not list or outside the calls it may make)."
    ),
    404: "Nothing at this path (an unknown id), or a page past the last.",
    409: "The item or look is not ready for this request yet.",
    413: "The request body is larger than the service accepts.",
    415: "The request body's content type is not one this operation reads.",
    429: "Too many requests from this caller; `Retry-After` says when to try again.",
    503: "Suggestions are not available yet (no active index, or no worker answered in time).",
}


def error_responses(*codes: int, **meanings: str) -> dict[int, OpenApiResponse]:
    """Documented error responses for `codes`, each with the shared error body. A meaning given as
    `e409="..."` replaces the general one."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=meanings.get(f"e{code}", ERROR_MEANINGS[code]))
        for code in codes
    }


class ApiSchema(AutoSchema):
    """AutoSchema that adds the errors an operation can give by its kind, to what its view declares."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, response in error_responses(*self._error_codes(operation)).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer):
            # drf-spectacular leaves out a nested list's bounds (the bulk upsert's 1 to 500 items).
            if not field.allow_empty:
                schema["minItems"] = 1
            most = getattr(field, "max_length", None)  # DRF >= 3.14; the stubs lack it
            if most is not None:
                schema["maxItems"] = most
        elif isinstance(field, serializers.DecimalField) and "pattern" in schema and field.max_whole_digits:
            # drf-spectacular's pattern matches "" (every digit optional) and "-1" where the field has
            # a minimum of 0: both are 400s. A decimal as sent: digits, then up to `decimal_places`.
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            schema["pattern"] = (
                rf"^{sign}\d{{1,{field.max_whole_digits}}}(?:\.\d{{0,{field.decimal_places}}})?$"
            )
        return schema

    def _error_codes(self, operation: dict[str, Any]) -> list[int]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        codes = []
        # A query parameter or a body can be malformed; so can a free-text path id (the views
        # check its length and characters), but not a path the URL converter types (int, uuid):
        # one that does not match is a 404.
        free_text_path = any(
            p["in"] == "path" and p["schema"].get("type") == "string" and "format" not in p["schema"]
            for p in parameters
        )
        if has_body or free_text_path or any(p["in"] == "query" for p in parameters):
            codes.append(400)
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes += [401, 403]
        # An id in the path may name nothing; a page number may be past the last page.
        if any(p["in"] == "path" for p in parameters) or (self._is_list_view() and self._get_paginator()):
            codes.append(404)
        if has_body:
            codes += [413, 415]
        if self.view.get_throttles():
            codes.append(429)
        return codes


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Tells the schema how storefronts authenticate, so generated clients send the key."""

    target_class = "outfits.api.auth.ApiKeyAuthentication"
    name = "storefrontApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "A secret key from the shop's servers, or a public key from its pages' origins.",
        }
