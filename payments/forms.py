"""Checkout forms: contact details, the test provider's card form, and the ops refund form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from marketplace.templatetags.marketplace_tags import usd

from .models import OrderItem
from .providers import CardDetails
from .services import CONTACT_FIELDS, ContactDetails

US_STATES: list[tuple[str, str]] = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"),
    ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"),
    ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
]  # fmt: skip


class ContactForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    line1 = forms.CharField(
        label="Street address", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(
        label="Apartment, suite (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="City", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    state = forms.ChoiceField(
        label="State",
        choices=[("", "Choose…"), *US_STATES],
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.CharField(
        label="ZIP code",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        if phone and not re.fullmatch(r"[0-9 +().-]{7,32}", phone):
            raise forms.ValidationError("Enter a phone number with digits, spaces, +, ( ) or -.")
        return phone

    def clean_postal_code(self) -> str:
        code = str(self.cleaned_data["postal_code"]).strip()
        # ASCII digits only: \d also matches Arabic-Indic or full-width digits, which no carrier reads.
        if not re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", code):
            raise forms.ValidationError("Enter a 5-digit ZIP code (or ZIP+4).")
        return code

    def to_details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            name=data["name"].strip(),
            email=data["email"],
            phone=data["phone"],
            line1=data["line1"].strip(),
            line2=data["line2"].strip(),
            city=data["city"].strip(),
            state=data["state"],
            postal_code=data["postal_code"],
        )

    @classmethod
    def initial_from_session(cls, session: Any) -> dict[str, str]:
        initial = {detail: getattr(session, session_field) for detail, session_field, _order in CONTACT_FIELDS}
        initial["email"] = initial["email"] or session.customer_email
        return initial


class SecretInput(forms.TextInput):
    """A text input that never writes its value back into the page (card number, CVC)."""

    def format_value(self, value: Any) -> str | None:
        return None


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


class CardForm(forms.Form):
    """The test provider's card form. Validated here; only brand and last 4 ever leave the request."""

    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=SecretInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "1234 1234 1234 1234"}
        ),
    )
    card_expiry = forms.CharField(
        label="Expiry (MM / YY)",
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "inputmode": "numeric", "placeholder": "MM / YY"}),
    )
    card_cvc = forms.CharField(
        label="Security code",
        max_length=4,
        widget=SecretInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "CVC"}),
    )
    card_name = forms.CharField(
        label="Name on card", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "cc-name"})
    )

    def clean_card_number(self) -> str:
        number = re.sub(r"[\s-]", "", str(self.cleaned_data["card_number"]))
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not re.fullmatch(r"[0-9]+", number):
            raise forms.ValidationError("A card number has digits only.")
        if not 12 <= len(number) <= 19:
            raise forms.ValidationError("That card number is too short or too long.")
        if not luhn_valid(number):
            raise forms.ValidationError("That card number is not valid. Check it for typos.")
        return number

    def clean_card_expiry(self) -> tuple[int, int]:
        raw = str(self.cleaned_data["card_expiry"]).strip()
        match = re.fullmatch(r"([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})", raw)
        if not match:
            raise forms.ValidationError("Enter the expiry as MM / YY, for example 04 / 29.")
        month, year = int(match.group(1)), int(match.group(2))
        if year < 100:
            year += 2000
        if not 1 <= month <= 12:
            raise forms.ValidationError("The expiry month must be from 01 to 12.")
        today = timezone.localdate()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError("This card has expired.")
        if year > today.year + 20:
            raise forms.ValidationError("That expiry year is too far ahead. Check it for typos.")
        return month, year

    def clean_card_cvc(self) -> str:
        cvc = str(self.cleaned_data["card_cvc"]).strip()
        if not re.fullmatch(r"[0-9]{3,4}", cvc):
            raise forms.ValidationError("The security code is the 3 or 4 digits on your card.")
        return cvc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number, cvc = data.get("card_number"), data.get("card_cvc")
        if number and cvc:
            amex = number.startswith(("34", "37"))
            if amex and len(cvc) != 4:
                self.add_error("card_cvc", "An American Express security code has 4 digits.")
            if not amex and len(cvc) != 3:
                self.add_error("card_cvc", "The security code is the 3 digits on the back of your card.")
        return data

    def to_card(self) -> CardDetails:
        data = self.cleaned_data
        month, year = data["card_expiry"]
        return CardDetails(
            number=data["card_number"], exp_month=month, exp_year=year, cvc=data["card_cvc"], name=data["card_name"]
        )


class RefundForm(forms.Form):
    """Ops refund a whole order or chosen quantities of its items, with a reason."""

    whole_order = forms.BooleanField(
        label="Refund everything that has not been refunded yet", required=False, initial=False
    )
    reason = forms.CharField(
        label="Reason (shown to the shopper)", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    # What the order had refunded when the page was shown: a resubmitted form (double-click, back and
    # submit again) is recognised by it and refunds nothing more (services.order_refund).
    seen_refunded_cents = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, items: list[OrderItem], refunded_cents: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen_refunded_cents"].initial = refunded_cents
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.IntegerField(
                label=f"{item.name} ({item.merchant_name})",
                min_value=0,
                max_value=item.refundable_quantity,
                initial=0,
                required=False,
                disabled=item.refundable_quantity == 0,
                help_text=f"{item.refundable_quantity} of {item.quantity} refundable at {usd(item.unit_price_cents)} each",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("whole_order") and not any(data.get(f"item_{item.pk}") for item in self.items):
            raise forms.ValidationError("Tick “refund everything” or choose a quantity for at least one item.")
        return data

    def lines(self) -> dict[int, int] | None:
        if self.cleaned_data.get("whole_order"):
            return None
        return {
            item.pk: int(self.cleaned_data.get(f"item_{item.pk}") or 0)
            for item in self.items
            if self.cleaned_data.get(f"item_{item.pk}")
        }
