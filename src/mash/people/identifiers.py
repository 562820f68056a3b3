"""UK identifiers: NHS number (modulus 11), unique pupil number (check letter), postcode."""

import re

from django.core.exceptions import ValidationError


def normalise_nhs_number(value: str) -> str:
    """Ten digits, or ValidationError saying what is wrong. Spaces and hyphens are allowed."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{10}", digits):
        raise ValidationError("Enter an NHS number of 10 digits, like 485 777 3456", code="nhs_format")
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise ValidationError("This NHS number is not valid: its check digit does not match", code="nhs_check")
    return digits


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None where no valid NHS number starts with them."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1))) % 11
    return 0 if check == 11 else (None if check == 10 else check)


_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn_check_letter(rest: str) -> str:
    """The check letter for the last 12 characters of a unique pupil number (DfE algorithm)."""
    total = 0
    for weight, ch in zip(range(2, 14), rest):
        total += weight * (int(ch) if ch.isdigit() else _UPN_LETTERS.index(ch))
    return _UPN_LETTERS[total % 23]


def normalise_upn(value: str) -> str:
    upn = re.sub(r"\s", "", value or "").upper()
    if not re.fullmatch(r"[A-Z]\d{11}[0-9A-HJ-NP-RT-Z]", upn):
        raise ValidationError(
            "Enter a unique pupil number of 13 characters: a letter, 11 digits, then a digit or letter",
            code="upn_format",
        )
    if upn_check_letter(upn[1:]) != upn[0]:
        raise ValidationError("This unique pupil number is not valid: its check letter does not match", code="upn_check")
    return upn


_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPSTUW])[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(value: str) -> str:
    """An upper-case UK postcode with one space before the inward code, e.g. 'RM17 6SL'."""
    compact = re.sub(r"\s", "", value or "").upper()
    if not _POSTCODE.fullmatch(compact):
        raise ValidationError("Enter a real UK postcode, like RM17 6SL", code="postcode")
    return f"{compact[:-3]} {compact[-3:]}"
