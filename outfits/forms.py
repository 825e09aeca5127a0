"""Forms of the admin's own pages, and the photo check of its garment pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from vision.images import ImageRejected

from .models import ApiKey
from .origins import normalize_origins
from .photos import photo_check


class MultipleFileInput(forms.ClearableFileInput):
    # Django's documented way to accept several files in one field ("Uploading multiple files").
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        files = (
            [single(item, initial) for item in data]
            if isinstance(data, list | tuple)
            else [single(data, initial)]
        )
        for item in files:
            if item.size > settings.CTL_MAX_UPLOAD_BYTES:
                raise forms.ValidationError(f"{item.name} is over {settings.CTL_MAX_UPLOAD_BYTES} bytes")
        return files


class OutfitPhotoUploadForm(forms.Form):
    photos = MultipleFileField(
        help_text="One photo or many (select a whole folder's): JPEG, PNG or WEBP outfit photos."
    )
    source = forms.CharField(
        max_length=80, initial="editors", help_text="Recorded on every outfit made from these photos."
    )


class GarmentPhotoForm(forms.ModelForm):
    """A catalog or library item's admin page: a photo an editor uploads passes the same check as an
    upload through the API (Django's ImageField only asks Pillow whether it is an image)."""

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            image.seek(0)
            try:
                photo_check(image.read())
            except ImageRejected as exc:
                raise forms.ValidationError(str(exc)) from exc
            finally:
                image.seek(0)
        return image


class ApiKeyForm(forms.ModelForm):
    """An API key in the admin: its allowed origins typed one a line, checked and stored in the
    spelling browsers send (outfits.origins)."""

    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Public keys only: the shop's page origins, one a line (https://shop.example).",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "kind", "allowed_origins", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins or [])

    def clean_allowed_origins(self) -> list[str]:
        return normalize_origins(str(self.cleaned_data.get("allowed_origins") or "").splitlines())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind", self.instance.kind)
        origins = data.get("allowed_origins") or []
        if kind == ApiKey.Kind.PUBLIC and not origins and "allowed_origins" not in self.errors:
            self.add_error("allowed_origins", "A public key needs at least one allowed origin.")
        if kind == ApiKey.Kind.SECRET and origins:
            self.add_error("allowed_origins", "A secret key is for servers: leave this empty.")
        return data
