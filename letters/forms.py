"""Forms for letters: verification, corrections, letter requests, and the ops revocation reason."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from consultations.conf import LEGAL_NAME_MAX

from .conf import verify_upload_max_bytes
from .selectors import RequestableCategory

# A token as letters issue them (secrets.token_urlsafe: URL-safe base64), possibly inside a pasted URL.
_TOKEN_IN_TEXT = re.compile(r"(?:/verify/)?([A-Za-z0-9_-]{20,64})/?\s*$")


class VerifyTokenForm(forms.Form):
    token = forms.CharField(
        label="Verification code or link",
        max_length=300,
        help_text="Printed under the QR code on the letter, e.g. https://…/verify/AbC…/",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def clean_token(self) -> str:
        match = _TOKEN_IN_TEXT.search(str(self.cleaned_data["token"]).strip())
        if match is None:
            raise forms.ValidationError("That does not look like a FlexLMN verification code.")
        return match.group(1)


class VerifyUploadForm(forms.Form):
    pdf = forms.FileField(
        label="Letter PDF",
        help_text="The file is hashed to compare it with the letters we issued, then discarded.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_pdf(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["pdf"]
        limit = verify_upload_max_bytes()
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limit // (1024 * 1024)} MB; a letter is much smaller."
            )
        upload.seek(0)
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError("That file is not a PDF.")
        return upload


class CorrectionForm(forms.Form):
    legal_name = forms.CharField(
        label="Your full legal name", max_length=LEGAL_NAME_MAX, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"})
    )
    note = forms.CharField(
        label="What is wrong? (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CorrectionRejectForm(forms.Form):
    note = forms.CharField(
        label="Why the correction is not made (the patient reads this)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LetterRequestForm(forms.Form):
    category = forms.ChoiceField(label="What do you need a letter for?", widget=forms.RadioSelect)

    def __init__(self, *args: Any, options: list[RequestableCategory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = {str(option.category.pk): option for option in options}
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        # Only validation uses these labels: templates/letters/request.html draws each option with its fee.
        field.choices = [(key, option.category.name) for key, option in self.options.items()]

    def cleaned_option(self) -> RequestableCategory:
        return self.options[self.cleaned_data["category"]]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Reason for revoking",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on the letter and in the audit log; the shopper is told their letter was revoked.",
    )
