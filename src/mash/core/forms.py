"""Form fields shared by the web pages: GOV.UK date input, and choices the domain checks itself."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError


class DateInputWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes named `<name>_day`, `<name>_month`, `<name>_year`."""

    def __init__(self, attrs=None):
        super().__init__(widgets={"day": forms.TextInput, "month": forms.TextInput, "year": forms.TextInput},
                         attrs=attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]


class DateInputField(forms.Field):
    """A date typed as day, month and year, with the GOV.UK error messages."""

    widget = DateInputWidget

    def clean(self, value):
        parts = [str(v or "").strip() for v in (value if isinstance(value, (list, tuple)) else ["", "", ""])]
        parts += [""] * (3 - len(parts))
        day, month, year = parts[:3]
        label = self.label or "The date"
        if not (day or month or year):
            if self.required:
                raise ValidationError(f"Enter {label.lower()}", code="required")
            return None
        missing = [name for name, v in (("day", day), ("month", month), ("year", year)) if not v]
        if missing:
            raise ValidationError(f"{label} must include a {' and a '.join(missing)}", code="incomplete")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise ValidationError(f"{label} must be a real date, with a 4-digit year", code="invalid")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{label} must be a real date", code="invalid") from None


class OpenChoiceField(forms.ChoiceField):
    """Offers choices but leaves checking the value to the domain service (ISA categories, partners...).

    The service is the one place that knows what the current ISA allows, and it says why a value is refused.
    """

    def valid_value(self, value):
        return True


class OpenMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value):
        return True


def is_blank(cleaned: dict, fields) -> bool:
    """Whether every named field of a repeated row was left empty (such rows are ignored)."""
    return not any(cleaned.get(name) not in (None, "", False, [], ()) for name in fields)
