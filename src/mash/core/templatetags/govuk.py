"""GOV.UK Design System markup for Django forms, so page templates stay short.

    {% load govuk %}
    {% govuk_error_summary form child_form %}
    {% govuk_field form.concern label_size="m" hint="What happened, and when" %}
"""

from __future__ import annotations

from django import forms, template

from mash.core.forms import DateInputWidget

register = template.Library()

PASSTHROUGH_ATTRS = ("autocomplete", "spellcheck", "autocapitalize", "inputmode", "autofocus")


def _kind(widget) -> str:
    if isinstance(widget, DateInputWidget):
        return "date"
    # CheckboxSelectMultiple is a RadioSelect subclass in Django: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "input"


def _selected(value) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, (list, tuple, set)):
        return {str(v) for v in value}
    return {str(value)}


def field_ids(bf) -> dict:
    base = bf.auto_id or bf.html_name
    return {"id": base, "hint_id": f"{base}-hint", "error_id": f"{base}-error"}


@register.inclusion_tag("govuk/field.html")
def govuk_field(bf, label=None, label_size="s", hint=None, classes="", inline=False, rows=5, heading=False):
    """One form field: label or legend, hint, error message and the control, with ids tied together."""
    widget = bf.field.widget
    kind = _kind(widget)
    ids = field_ids(bf)
    hint = hint if hint is not None else bf.help_text
    errors = list(bf.errors)
    describedby = " ".join(i for i, present in ((ids["hint_id"], hint), (ids["error_id"], errors)) if present)
    value = bf.value()
    ctx = {
        "field": bf,
        "kind": kind,
        "name": bf.html_name,
        "label": label if label is not None else bf.label,
        "label_size": label_size,
        "hint": hint,
        "errors": errors,
        "describedby": describedby,
        "classes": classes,
        "inline": inline,
        "rows": rows,
        "heading": heading,
        "required": bf.field.required,
        "attrs": {k: v for k, v in widget.attrs.items() if k in PASSTHROUGH_ATTRS},
        **ids,
    }
    if kind in ("radios", "checkboxes", "select"):
        chosen = _selected(value)
        options = []
        n = 0
        for choice_value, choice_label in bf.field.choices:
            if kind != "select" and choice_value in ("", None):
                continue
            n += 1
            option_id = ids["id"] if n == 1 else f"{ids['id']}-{n}"
            options.append({"value": "" if choice_value is None else str(choice_value), "label": choice_label,
                            "id": option_id, "checked": str(choice_value) in chosen})
        ctx["options"] = options
    elif kind == "date":
        parts = value if isinstance(value, (list, tuple)) else widget.decompress(value)
        names = [f"{bf.html_name}{suffix}" for suffix in widget.widgets_names]
        ctx["parts"] = [
            {"name": names[0], "id": ids["id"], "label": "Day", "value": parts[0] or "", "width": 2},
            {"name": names[1], "id": f"{ids['id']}-month", "label": "Month", "value": parts[1] or "", "width": 2},
            {"name": names[2], "id": f"{ids['id']}-year", "label": "Year", "value": parts[2] or "", "width": 4},
        ]
    elif kind == "checkbox":
        ctx["checked"] = bool(value)
    else:
        formatted = widget.format_value(value)
        if getattr(widget, "input_type", "") == "password":
            formatted = None  # never send a password back to the browser
        ctx["value"] = "" if formatted is None else formatted
        ctx["input_type"] = getattr(widget, "input_type", "text")
    return ctx


@register.inclusion_tag("govuk/error_summary.html")
def govuk_error_summary(*forms_):
    """The error summary for every given form (or list of forms), each message linking to its field."""
    items = []
    flat = []
    for arg in forms_:
        flat.extend(arg if isinstance(arg, (list, tuple)) else [arg])
    for form in flat:
        if not form or not getattr(form, "is_bound", False) or not form.errors:
            continue
        for message in form.non_field_errors():
            anchor = getattr(form, "summary_anchor", None)
            items.append({"href": f"#{anchor}" if anchor else "", "text": message})
        # A form may send a field's errors elsewhere, to what the user does first (see sar.forms).
        targets = getattr(form, "summary_targets", {})
        for name, field in form.fields.items():
            bf = form[name]
            for message in bf.errors:
                items.append({"href": f"#{targets.get(name) or field_ids(bf)['id']}", "text": message})
    return {"items": items}


RAG_CLASSES = {"red": "govuk-tag--red", "amber": "govuk-tag--yellow", "green": "govuk-tag--green"}


@register.inclusion_tag("govuk/rag_tag.html")
def rag_tag(rating, label=None):
    """A RAG rating as a GOV.UK tag: red, amber (yellow tag) or green; grey when not yet rated."""
    from mash.core.vocabulary import RagRating

    labels = dict(RagRating.choices)
    return {"css": RAG_CLASSES.get(rating or "", "govuk-tag--grey"),
            "text": label or labels.get(rating or "", "Not rated")}


@register.filter
def choice_label(value, choices):
    """`{{ value|choice_label:choices }}` with choices a TextChoices class or list of pairs."""
    pairs = choices.choices if hasattr(choices, "choices") else choices
    return dict(pairs).get(value, value)


@register.filter
def get_item(mapping, key):
    """`{{ labels|get_item:key }}`"""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


@register.simple_tag
def govuk_has_errors(*forms_):
    """`{% govuk_has_errors form rows as has_errors %}`: whether any bound form (or list of forms) has errors."""
    for arg in forms_:
        for form in (arg if isinstance(arg, (list, tuple)) else [arg]):
            if form and getattr(form, "is_bound", False) and form.errors:
                return True
    return False


@register.filter
def iso_date(value):
    """`{{ "2016-05-04"|iso_date|date:"j F Y" }}`: a date kept as ISO text (in a package's frozen
    content) back to a date, so it is shown as GOV.UK writes dates. Anything else is left as it is."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else value
    except ValueError:
        return value
