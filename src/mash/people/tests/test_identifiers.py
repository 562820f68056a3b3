import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from mash.people.identifiers import (nhs_check_digit, normalise_nhs_number, normalise_postcode, normalise_upn,
                                     upn_check_letter)


@pytest.mark.parametrize("value, expected", [("943 476 5919", "9434765919"), ("401-023-2137", "4010232137"),
                                             ("9990000018", "9990000018")])
def test_valid_nhs_numbers(value, expected):
    assert normalise_nhs_number(value) == expected


@pytest.mark.parametrize("value, message", [
    ("943 476 5918", "check digit"), ("12345", "10 digits"), ("94347659190", "10 digits"),
    ("94347A5919", "10 digits"), ("", "10 digits"),
])
def test_invalid_nhs_numbers(value, message):
    with pytest.raises(ValidationError, match=message):
        normalise_nhs_number(value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
@settings(max_examples=200)
def test_nhs_check_digit_round_trip(nine):
    check = nhs_check_digit(nine)
    if check is None:  # a remainder of 10: no NHS number starts with these digits
        for d in range(10):
            with pytest.raises(ValidationError):
                normalise_nhs_number(nine + str(d))
        return
    assert normalise_nhs_number(nine + str(check)) == nine + str(check)
    for other in set(range(10)) - {check}:
        with pytest.raises(ValidationError):
            normalise_nhs_number(nine + str(other))


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
@settings(max_examples=200)
def test_upn_check_letter_round_trip(rest):
    letter = upn_check_letter(rest)
    assert normalise_upn(letter + rest) == letter + rest
    wrong = "A" if letter != "A" else "B"
    with pytest.raises(ValidationError, match="check letter"):
        normalise_upn(wrong + rest)


def test_upn_format():
    with pytest.raises(ValidationError, match="13 characters"):
        normalise_upn("A12345")


@pytest.mark.parametrize("value, expected", [
    ("RM17 6SL", "RM17 6SL"), ("rm176sl", "RM17 6SL"), ("SW1A 1AA", "SW1A 1AA"), ("W1A 0AX", "W1A 0AX"),
    ("EC1A 1BB", "EC1A 1BB"), ("M1 1AE", "M1 1AE"), ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"),
    ("DN55 1PT", "DN55 1PT"), ("GIR 0AA", "GIR 0AA"), (" ss17  0bd ", "SS17 0BD"),
])
def test_valid_postcodes(value, expected):
    assert normalise_postcode(value) == expected


@pytest.mark.parametrize("value", ["RM17 6S", "123 456", "QQ1 1AA", "   ", "RM17 6SLX", "V1 1AA"])
def test_invalid_postcodes(value):
    with pytest.raises(ValidationError, match="UK postcode"):
        normalise_postcode(value)
