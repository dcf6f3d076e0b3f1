"""The project's serializer bases. Every serializer derives from `Serializer`, `ModelSerializer` or
`StrictInputSerializer` here, never from DRF's directly (tests/test_serializers.py checks).

Fields are built once per class, not once per instance. DRF builds a serializer's fields anew for every
instance: the declared fields deep-copied (each running its `__init__` again) and, for a ModelSerializer,
`get_field_info()` and `build_field()` for every model field; every nested serializer and `many=True`
child is an instance too. That was most of the CPU an order or a payment response spent in its
serializer. Here the first instance of a class keeps what `get_fields()` returned as templates, bound
once to their names (DRF's `bind()` depends on the name alone: label, source, a SerializerMethodField's
`get_<name>`), and every instance gets copies of its own: each template's attribute dict copied, the
dicts, lists and sets in it copied one level down (error messages, validators, choices, style), its
sub-fields (a ListField's or ListSerializer's child) copied the same way and re-parented, and `parent`
set to the instance, so `root` and `context` are the instance's own. A nested serializer's own fields
come from its class's templates the same way when it is first used. Shared between copies, as DRF's
own `Field.__deepcopy__` shares them or because nothing changes them after construction: validator
objects (stateless since DRF 3.12: they are given the field when called), regexes, model fields,
querysets (a related field clones its queryset on every use), lazy strings.

So, as before, changing a field of an instance (`self.fields["x"].required = False`, popping one,
appending a validator) changes that instance only, and validated data and errors live on the instance.
What no longer runs per instance is `get_fields()`: a class whose `get_fields()` reads the instance, the
context or the request sets `fields_depend_on_instance = True` and is built DRF's way every time. A
class that overrides `get_fields()` has to say which it is; leaving it unsaid is an error at import.
"""

from __future__ import annotations

import copy

from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.utils.formatting import lazy_format
from rest_framework.utils.serializer_helpers import BindingDict

# Set when a serializer is used, never when it is built: a template holding one was used in get_fields().
_USE_STATE = frozenset({"fields", "_data", "_errors", "_validated_data"})
# These bind() depend on the field's name alone, so a template is bound once for all its copies.
_NAME_ONLY_BINDS = (drf_fields.Field.bind, drf_fields.SerializerMethodField.bind)


class _Format(lazy_format):
    """DRF's lazy_format without its cache: formatted in the language of each use. A lazy_format keeps
    its first result, which is harmless on a validator of one instance but would give every later
    request the language of the first error once the validator is shared by all the copies."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.format_string.format(*self.args, **self.kwargs)


def _shareable(validator):
    message = getattr(validator, "message", None)
    if type(message) is lazy_format and message.result is None:
        validator = copy.copy(validator)
        validator.message = _Format(message.format_string, *message.args, **message.kwargs)
    return validator


class _Template:
    """A field as get_fields() built it, and how to copy it without running its `__init__` again."""

    __slots__ = ("bound", "children", "cls", "containers", "state")

    def __init__(self, field: drf_fields.Field, *, bound: bool = False) -> None:
        self.cls = type(field)
        self.state = dict(vars(field))
        used = _USE_STATE & self.state.keys()
        if used:
            raise TypeError(f"{self.cls.__name__} was used inside get_fields() ({', '.join(sorted(used))}): "
                            "set fields_depend_on_instance = True on the serializer whose get_fields() it is")
        if "_validators" in self.state:
            self.state["_validators"] = [_shareable(v) for v in self.state["_validators"]]
        # `_kwargs` is copied too, though a copy's `_kwargs["child"]` stays the template's child: DRF reads
        # `_kwargs` only to print a field and to deep-copy it, and a deep copy is a new field either way.
        self.containers = tuple(k for k, v in self.state.items() if isinstance(v, dict | list | set))
        # (attribute, its template, whether this field is the sub-field's parent, as of a ListField's child)
        self.children = tuple((k, _Template(v), v.parent is field) for k, v in self.state.items()
                              if k != "parent" and isinstance(v, drf_fields.Field))
        self.bound = bound

    def make(self, parent):
        field = object.__new__(self.cls)
        state = self.state.copy()
        for key in self.containers:
            state[key] = state[key].copy()
        for key, template, owned in self.children:
            state[key] = template.make(field if owned else None)
        state["parent"] = parent
        field.__dict__ = state
        return field


# `fields` made from templates kept per class: see the module docstring. No docstrings on these bases:
# drf-spectacular shows a class's docstring, or its nearest base's, as the description of every
# serializer that has none of its own.
class FieldTemplates:
    fields_depend_on_instance = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "get_fields" in cls.__dict__ and "fields_depend_on_instance" not in cls.__dict__:
            raise TypeError(f"{cls.__qualname__} overrides get_fields(): say whether its fields depend on the "
                            "instance, its context or the request (fields_depend_on_instance = True or False)")

    @cached_property
    def fields(self) -> BindingDict:
        fields = BindingDict(self)
        cls = type(self)
        if cls.fields_depend_on_instance:
            for name, field in self.get_fields().items():
                fields[name] = field
            return fields
        templates = cls.__dict__.get("_field_templates")
        if templates is None:
            templates = {}
            for name, field in self.get_fields().items():
                bound = type(field).bind in _NAME_ONLY_BINDS
                if bound:
                    field.bind(field_name=name, parent=self)
                templates[name] = _Template(field, bound=bound)
            cls._field_templates = templates  # two threads racing build the same templates: no lock needed
        for name, template in templates.items():
            if template.bound:
                fields.fields[name] = template.make(self)  # bound already: BindingDict would bind it again
            else:
                fields[name] = template.make(None)
        return fields


class Serializer(FieldTemplates, serializers.Serializer):
    pass


class ModelSerializer(FieldTemplates, serializers.ModelSerializer):
    pass


class StrictInputSerializer(Serializer):
    # Input serializer base: unknown fields are an error, not silently dropped, so a typo in a field
    # name fails loudly instead of leaving a setting unchanged.

    default_error_messages = {"unknown_field": _("Unknown field.")}

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {str(key): [self.error_messages["unknown_field"]] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value
