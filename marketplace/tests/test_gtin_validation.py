from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marketplace.models import Eligibility
from marketplace.tests.factories import ProductFactory
from marketplace.validators import gtin_check_digit, is_valid_gtin, validate_gtin


@pytest.mark.parametrize(
    "gtin",
    [
        "96385074",  # GTIN-8
        "036000291452",  # GTIN-12 (UPC-A)
        "4006381333931",  # GTIN-13 (EAN-13)
        "00012345600012",  # GTIN-14
    ],
)
def test_real_world_gtins_of_every_length_are_valid(gtin: str) -> None:
    assert is_valid_gtin(gtin)
    validate_gtin(gtin)


def test_check_digit_is_the_gs1_mod_10() -> None:
    assert gtin_check_digit("400638133393") == 1
    assert gtin_check_digit("03600029145") == 2


@pytest.mark.parametrize(
    ("gtin", "code"),
    [
        ("4006381333932", "gtin_check_digit"),
        ("036000291453", "gtin_check_digit"),
        ("12345", "gtin_format"),
        ("40063813339311", "gtin_check_digit"),
        ("400638133393A", "gtin_format"),
        ("４００６３８１３３３９３１", "gtin_format"),  # full-width digits are not ASCII
        ("4006381 333931", "gtin_format"),
    ],
)
def test_malformed_or_mistyped_gtins_are_rejected(gtin: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gtin(gtin)
    assert excinfo.value.code == code


def test_an_empty_gtin_is_allowed_by_the_validator() -> None:
    validate_gtin("")


@pytest.mark.django_db
def test_auto_substantiated_product_without_gtin_fails_validation_and_the_database_refuses_it() -> None:
    product = ProductFactory.build(eligibility=Eligibility.AUTO_SUBSTANTIATION, gtin="")
    with pytest.raises(ValidationError) as excinfo:
        product.full_clean(exclude=["merchant", "category"])
    assert "gtin" in excinfo.value.message_dict

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(eligibility=Eligibility.AUTO_SUBSTANTIATION, gtin="")


@pytest.mark.django_db
def test_product_with_a_wrong_check_digit_fails_full_clean() -> None:
    product = ProductFactory(gtin="4006381333931")
    product.gtin = "4006381333932"
    with pytest.raises(ValidationError) as excinfo:
        product.full_clean()
    assert "check digit" in " ".join(excinfo.value.message_dict["gtin"])
