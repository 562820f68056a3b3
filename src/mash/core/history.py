"""Amend a record while keeping what it said before."""

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
import json

from .errors import ValidationFailed
from .models import Revision


def _value(obj: models.Model, field: models.Field):
    value = getattr(obj, field.attname)
    # Round-trip through the JSON encoder so dates and decimals are stored as text.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def amend(obj: models.Model, changes: dict, *, reason: str, by) -> Revision | None:
    """Apply `changes` to `obj`, recording the earlier values. Returns None when nothing changed."""
    if not (reason or "").strip():
        raise ValidationFailed("Give a reason for the amendment", field="reason")
    fields = {f.name: f for f in obj._meta.concrete_fields}
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationFailed(f"Cannot amend {', '.join(sorted(unknown))}", field="__all__")
    changed = [name for name, value in changes.items() if getattr(obj, name) != value]
    if not changed:
        return None
    with transaction.atomic():
        ct = ContentType.objects.get_for_model(obj)
        last = Revision.objects.filter(content_type=ct, object_id=obj.pk).order_by("-number").first()
        revision = Revision.objects.create(
            content_type=ct,
            object_id=obj.pk,
            number=(last.number + 1) if last else 1,
            previous={name: _value(obj, fields[name]) for name in changed},
            changed_fields=changed,
            reason=reason.strip(),
            changed_by=by,
        )
        for name in changed:
            setattr(obj, name, changes[name])
        obj.full_clean()
        obj.save(update_fields=changed)
    return revision


def revisions_of(obj: models.Model):
    ct = ContentType.objects.get_for_model(obj)
    return Revision.objects.filter(content_type=ct, object_id=obj.pk).select_related("changed_by")
