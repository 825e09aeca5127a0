"""Forms of the admin's own pages, and the photo check of its garment pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from vision.images import ImageRejected

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
