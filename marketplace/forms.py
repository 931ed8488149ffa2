from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from .csv_io import MAX_CSV_BYTES
from .models import Merchant, MerchantStatus, Product
from .services import MAX_QUANTITY


class CartAddForm(forms.Form):
    product = forms.UUIDField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartQuantityForm(forms.Form):
    product = forms.UUIDField(widget=forms.HiddenInput)
    # 0 removes the line (services.cart_set_quantity).
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class CartRemoveForm(forms.Form):
    product = forms.UUIDField(widget=forms.HiddenInput)


class MerchantApplicationForm(forms.Form):
    name = forms.CharField(label="Company or brand name", max_length=120)
    website = forms.URLField(label="Website", assume_scheme="https", max_length=200)
    contact_name = forms.CharField(label="Your name", max_length=120)
    contact_email = forms.EmailField(label="Work email")
    application_note = forms.CharField(
        label="What do you sell, and how does it support health?",
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example: the products, who they help, and whether any are on the IIAS eligible list.",
    )
    agree = forms.BooleanField(
        label="I confirm that I may represent this company and that the information above is accurate.",
    )
    # Honeypot: hidden from people by CSS (shop.css), filled in by naive bots.
    fax_number = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    # The application this form repeats (the same name and contact email, still awaiting review): a form
    # sent twice (double-click, back and submit again) creates nothing more and is thanked again.
    resubmitted: Merchant | None = None

    def same_application(self, name: str) -> Merchant | None:
        email = str(self.data.get("contact_email") or "").strip()
        if not email:
            return None
        return Merchant.objects.filter(
            name__iexact=name, contact_email__iexact=email, status=MerchantStatus.APPLIED
        ).first()

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        self.resubmitted = self.same_application(name)
        if self.resubmitted is None and Merchant.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(
                "A merchant with this name has already applied or sells on Flex Shop. "
                "If that is you, reply to our email instead of applying again."
            )
        return name

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("fax_number"))


class CsvUploadForm(forms.Form):
    merchant = forms.ModelChoiceField(queryset=Merchant.objects.order_by("name"))
    file = forms.FileField(label="CSV file", help_text=f"UTF-8 CSV, at most {MAX_CSV_BYTES // (1024 * 1024)} MB.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB.")
        return upload


class CsvConfirmForm(forms.Form):
    # The previewed file, signed so that what is imported is what was previewed.
    payload = forms.CharField(widget=forms.HiddenInput)


class ProductAdminForm(forms.ModelForm[Product]):
    """Price in dollars for people; stored as integer cents."""

    price = forms.DecimalField(
        label="Price (USD)",
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100000.00"))],
    )

    merchant_url = forms.URLField(label="Merchant's product URL", required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Product
        fields = (
            "merchant",
            "category",
            "name",
            "slug",
            "description",
            "eligibility",
            "gtin",
            "merchant_url",
            "merchant_reference",
            "image",
            "active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.price_cents:
            self.fields["price"].initial = Decimal(self.instance.price_cents) / 100
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Used in the product's URL. Left empty, it is made from the name."

    def _post_clean(self) -> None:
        price = self.cleaned_data.get("price")
        if price is not None:
            self.instance.price_cents = int(price * 100)
        super()._post_clean()  # type: ignore[misc]
