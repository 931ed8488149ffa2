from flexlmn.tests.disclosure import assert_not_disclosed, disclosed, without_identifiers


def test_a_birth_year_inside_a_random_identifier_is_not_a_disclosure() -> None:
    text = (
        '{"id": "evt_ca91d8f4121988747df22b12744", "object": "d3218e92-bafc-1988-9823-351597d2e455",'
        ' "created": 1795719880, "csrf": "aB3x1988Qz7Lw0pK9mN2vR5tY8uI4oEe"}'
    )
    assert not disclosed(text, "1988")
    assert_not_disclosed(text, "1988", "19880")


def test_a_birth_year_or_amount_standing_on_its_own_is_a_disclosure() -> None:
    assert disclosed("Date of birth: June 14, 1988", "1988")
    assert disclosed('{"dob": "1988-04-12"}', "1988")
    assert disclosed('{"amount": 64900, "currency": "usd"}', "64900")
    assert disclosed("CVC 123", "123")
    assert not disclosed("order 1234", "123")


def test_a_card_number_is_never_blanked_out_as_an_identifier() -> None:
    assert "4242424242424242" in without_identifiers("card 4242424242424242 stored")
    assert disclosed("card 4242424242424242 stored", "4242424242424242")


def test_words_are_found_with_or_without_case() -> None:
    assert disclosed("Patient reports Insomnia", "insomnia", ignore_case=True)
    assert not disclosed("Patient reports Insomnia", "insomnia")
    try:
        assert_not_disclosed("Sam Q. Shopper", "Shopper")
    except AssertionError as error:
        assert "'Shopper' is disclosed" in str(error)
    else:
        raise AssertionError("assert_not_disclosed let a disclosed name through")
