"""What DRF's fields answer, for serializers that read their values directly.

DRF looks each declared field's value up and converts it one field at a time (and deep-copies
every declared field for each serializer it builds): on the API's lists that was most of the
serializing. The hot serializers build their answer themselves with these helpers; their
tests compare it with DRF's own rendering.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject


def drf_time(serializer, value) -> str | None:
    """``value`` as DRF's DateTimeField shows it (ISO 8601 in the current time zone, "Z" for
    UTC), with the zone looked up once per serializer instead of once per value."""
    if not value:
        return None
    zone = serializer.__dict__.get("_zone")
    if zone is None:
        zone = serializer._zone = timezone.get_current_timezone()
    stamp = value.astimezone(zone).isoformat()
    return stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp


def field_names(serializer) -> tuple[str, ...]:
    """The serializer's field names, worked out once per class (not per serializer)."""
    cls = type(serializer)
    names = cls.__dict__.get("_field_names")
    if names is None:
        names = cls._field_names = tuple(serializer.fields)
    return names


def representation(serializer, values: dict, instance) -> dict:
    """The answer in the order of the declared fields: ``values`` for those it has, and for
    any other (the fields a subclass adds) what DRF's ``Serializer.to_representation`` gives."""
    answer = {}
    for name in field_names(serializer):
        if name in values:
            answer[name] = values[name]
            continue
        field = serializer.fields[name]
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            continue
        empty = (attribute.pk if isinstance(attribute, PKOnlyObject) else attribute) is None
        answer[name] = None if empty else field.to_representation(attribute)
    return answer
