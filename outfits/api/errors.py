"""Every API error is JSON with a `detail` that names the problem."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler

from vision.images import ImageRejected

from .. import dependencies
from ..selectors import NoIndex, NotAnalysed, SearchUnavailable
from ..suggestions import MethodUnavailable
from .auth import count_refused_call
from .body_limit import body_too_large


class ErrorSerializer(serializers.Serializer):
    """The body of every API error (what `exception_handler` writes; for the OpenAPI schema only)."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    # The metaclass moves declared fields off the class, so Serializer.errors (a property) is intact.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="Invalid input only: each field's messages (nested as the input is).",
    )

    class Meta:
        ref_name = "Error"


log = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "the item is not ready for this request yet"
    default_code = "conflict"


class Unavailable(exceptions.APIException):
    status_code = 503
    default_detail = "suggestions are not available yet"
    default_code = "unavailable"


class DependencyDown(Unavailable):
    """A server the answer needs (PostgreSQL, Redis, the broker) refused or timed out: a 503 with
    Retry-After, so clients and load balancers retry shortly instead of reading a server error."""

    wait = dependencies.RETRY_AFTER_SECONDS  # DRF's handler sends it as Retry-After
    default_code = "dependency_unavailable"

    @classmethod
    def of(cls, exc: BaseException) -> DependencyDown:
        return cls(f"the {dependencies.which(exc)} is unavailable; try again in a few seconds")


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if dependencies.which(exc) is not None:
        log.warning("%s answered 503: %s: %s", context["request"].path, type(exc).__name__, exc)
        exc = DependencyDown.of(exc)
    exc = count_refused_call(exc, context)  # a refused call counts against its caller's limit
    if isinstance(exc, ImageRejected):
        exc = exceptions.ValidationError({"photo": [str(exc)]})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    elif isinstance(exc, (NotAnalysed, MethodUnavailable)):
        exc = Conflict(str(exc))
    elif isinstance(exc, (NoIndex, SearchUnavailable)):
        exc = Unavailable(str(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Form fields over Django's limit inside a body the view allows (outfits.api.body_limit
        # refuses larger bodies before reading them): Django's answer was an HTML 400.
        return body_too_large(None, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        # Field errors: keep them, and add one sentence a log line or a widget can show.
        fields = ", ".join(str(name) for name in response.data)
        response.data = {"detail": f"invalid input: {fields}", "errors": response.data}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": "; ".join(str(item) for item in response.data)}
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 for a path no view matches (`/api/v1/looks/xyz/`): JSON under /api/, as every
    other API error; the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"nothing at {request.path}"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500: JSON under /api/ (the error itself is logged, never shown). An error outside
    the API views' own handling that says a dependency is down (the health check's query, a
    middleware's) is the same 503 as in the API: Django calls this while handling it."""
    down = sys.exc_info()[1]
    if down is not None and dependencies.which(down) is not None:
        answer = DependencyDown.of(down)
        response = JsonResponse({"detail": str(answer.detail)}, status=answer.status_code)
        response["Retry-After"] = str(answer.wait)
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "the server failed to answer; the error is logged"}, status=500)
    return defaults.server_error(request)
