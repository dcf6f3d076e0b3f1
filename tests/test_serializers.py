"""Serializer fields are built once per class (osdm.core.serializers): every project serializer uses
that, its fields are what DRF would have built, and nothing of one instance shows in another."""

from __future__ import annotations

import pytest
from django.urls import get_resolver
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.utils.formatting import lazy_format

from osdm.core.serializers import FieldTemplates, ModelSerializer, Serializer, StrictInputSerializer
from osdm.files.models import StoredFile
from osdm.payments.serializers import ProcessInput

from .conftest import PASSWORD, assert_error

PROJECT = ("osdm.", "tenants.", "webhooks.")


def project_serializers() -> list[type]:
    for urlconf in ("osdm.urls", "osdm.urls_public"):
        get_resolver(urlconf).url_patterns  # noqa: B018 (imports every view, hence every serializer)
    found, todo = [], [serializers.BaseSerializer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(PROJECT) and not cls.__module__.startswith("osdm.core.serializers"):
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def drf_fields_of(serializer) -> dict:
    """The fields as DRF itself builds them for an instance: get_fields(), then bound."""
    return dict(serializers.Serializer.fields.func(serializer))


def assert_same(ours, theirs, where: str, pairs: dict) -> None:
    """Same class and the same state, attribute by attribute, sub-fields compared the same way;
    `parent` compared by position (`pairs` maps our objects to DRF's)."""
    if isinstance(theirs, lazy_format):  # ours formats on every use, in the language of the moment
        assert str(ours) == str(theirs), where
        return
    assert type(ours) is type(theirs), where
    if isinstance(ours, drf_fields.Field):
        pairs[id(ours)] = theirs
        mine, other = vars(ours), vars(theirs)
        assert mine.keys() == other.keys(), where
        for key, value in mine.items():
            if key == "_creation_counter":
                continue  # a construction count (orders declared fields): differs by nature
            if key == "parent":
                assert (value is None) == (other[key] is None), where
                if value is not None and id(value) in pairs:
                    assert pairs[id(value)] is other[key], f"{where}.parent"
            elif key == "_kwargs" and "child" in value:
                assert value.keys() == other[key].keys(), where
            else:
                assert_same(value, other[key], f"{where}.{key}", pairs)
    elif isinstance(ours, list | tuple):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]", pairs)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs), where
        for key in ours:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]", pairs)
    elif hasattr(ours, "__dict__") and ours != theirs:
        assert_same(vars(ours), vars(theirs), where, pairs)  # validators, lazily formatted messages
    else:
        assert ours == theirs, where


def test_every_project_serializer_builds_its_fields_from_templates():
    classes = project_serializers()
    assert len(classes) > 100
    assert [c.__qualname__ for c in classes if not issubclass(c, FieldTemplates)] == []


@pytest.mark.parametrize("cls", project_serializers(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_fields_are_the_ones_drf_builds(cls):
    for _ in range(2):  # the first instance makes the templates, the second only copies them
        ours, theirs = cls(), cls()
        pairs = {id(ours): theirs}
        mine, other = dict(ours.fields), drf_fields_of(theirs)
        assert list(mine) == list(other)
        for name, field in mine.items():
            assert field.parent is ours
            assert_same(field, other[name], f"{cls.__qualname__}.{name}", pairs)
            # a nested serializer's own fields too, once: its class's templates
            nested = getattr(field, "child", field)
            if isinstance(nested, serializers.Serializer):
                assert nested.root is ours
                for sub, sub_field in nested.fields.items():
                    assert sub_field.parent is nested
                    assert sub_field.root is ours
                    assert_same(sub_field, drf_fields_of(getattr(other[name], "child", other[name]))[sub],
                                f"{cls.__qualname__}.{name}.{sub}", {})


class Note(Serializer):
    text = serializers.CharField(max_length=10)
    tags = serializers.ListField(child=serializers.CharField(max_length=5), required=False)
    seen_by = serializers.SerializerMethodField()

    def get_seen_by(self, note) -> str:
        return self.context["viewer"]


class Thread(Serializer):
    title = serializers.CharField()
    notes = Note(many=True)
    first = Note(required=False)


def test_each_instance_has_its_own_context_and_parents():
    data = {"title": "t", "notes": [{"text": "a"}], "first": {"text": "b"}}
    one, two = Thread(data, context={"viewer": "one"}), Thread(data, context={"viewer": "two"})
    assert one.data["notes"] == [{"text": "a", "seen_by": "one"}]
    assert two.data["notes"] == [{"text": "a", "seen_by": "two"}]
    assert one.data["first"]["seen_by"] == "one"
    assert two.data["first"]["seen_by"] == "two"
    note_one, note_two = one.fields["notes"].child, two.fields["notes"].child
    assert note_one is not note_two
    assert note_one.fields["tags"].child is not note_two.fields["tags"].child
    assert note_one.fields["tags"].child.root is one
    assert note_two.fields["tags"].child.root is two
    assert note_one.fields["tags"].child.context == {"viewer": "one"}


def test_changing_a_field_of_one_instance_changes_no_other():
    one = Note()
    one.fields["text"].required = False
    one.fields["text"].error_messages["blank"] = "Say something."
    one.fields["text"].validators.append(lambda value: None)
    one.fields["tags"].child.error_messages["blank"] = "No blank tags."
    one.fields.pop("seen_by")
    two = Note(data={"text": "", "tags": [""]})
    assert list(two.fields) == ["text", "tags", "seen_by"]
    assert two.fields["text"].required is True
    assert len(two.fields["text"].validators) == len(Note().fields["text"].validators)
    assert not two.is_valid()
    assert two.errors["text"] == ["This field may not be blank."]
    assert two.errors["tags"] == {0: ["This field may not be blank."]}
    changed = Note(data={"text": ""})
    changed.fields["text"].error_messages["blank"] = "Say something."
    assert not changed.is_valid()
    assert changed.errors["text"] == ["Say something."]


def test_validation_of_one_instance_does_not_show_in_another():
    bad = ProcessInput(data={"method": "bitcoin", "return_url": "nope", "source": {"month": 13}, "colour": "red"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"method", "return_url", "source", "colour"}
    good = ProcessInput(data={"method": "mada", "return_url": "https://shop.example.com/back",
                              "source": {"month": 12}})
    assert good.is_valid(), good.errors
    assert good.errors == {}
    assert good.validated_data["source"] == {"month": 12}
    assert not hasattr(bad, "_validated_data") or bad.validated_data == {}
    other_bad = ProcessInput(data={"method": "mada"})
    assert not other_bad.is_valid()
    assert set(other_bad.errors) == {"return_url"}


def test_a_model_serializer_renders_each_instance_from_its_own_object():
    class FileOut(ModelSerializer):
        class Meta:
            model = StoredFile
            fields = ["id", "name", "size"]

    first = StoredFile(name="a.pdf", size=1)
    second = StoredFile(name="b.pdf", size=2)
    assert FileOut(first).data["name"] == "a.pdf"
    assert FileOut(second).data["name"] == "b.pdf"
    assert [row["size"] for row in FileOut([first, second], many=True).data] == [1, 2]


def test_fields_that_depend_on_the_instance_are_built_for_each_instance():
    class PerViewer(StrictInputSerializer):
        fields_depend_on_instance = True
        name = serializers.CharField()

        def get_fields(self):
            fields = super().get_fields()
            if not self.context.get("staff"):
                fields.pop("name")
            return fields

    assert list(PerViewer(context={"staff": True}).fields) == ["name"]
    assert list(PerViewer(context={}).fields) == []
    assert list(PerViewer(context={"staff": True}).fields) == ["name"]


def test_overriding_get_fields_requires_saying_whether_fields_depend_on_the_instance():
    with pytest.raises(TypeError, match="fields_depend_on_instance"):
        class Unsaid(Serializer):
            def get_fields(self):
                return super().get_fields()


@pytest.mark.django_db
def test_a_bad_request_leaves_nothing_behind_for_the_next(api, alpha):
    client = api(alpha, language="ar")
    first = assert_error(client.post("/api/v1/auth/register", {"email": "not-an-email", "password": "x" * 20,
                                                                 "full_name": "A", "colour": "red"}), 400)
    assert set(first["fields"]) == {"email", "colour"}
    english = api(alpha, language="en")
    second = assert_error(english.post("/api/v1/auth/register", {"email": "b@example.com", "password": "x" * 20}),
                          400)
    assert set(second["fields"]) == {"full_name"}
    assert second["fields"]["full_name"] == ["This field is required."]
    assert first["fields"]["email"] != ["Enter a valid email address."]  # in Arabic
    ok = english.post("/api/v1/auth/register", {"email": "c@example.com", "password": PASSWORD,
                                                "full_name": "C"})
    assert ok.status_code == 201, ok.content


@pytest.mark.django_db
def test_a_length_error_is_in_the_language_of_each_request(api, alpha):
    long_name = "س" * 151
    arabic = assert_error(api(alpha, language="ar").post(
        "/api/v1/auth/register", {"email": "a@example.com", "password": PASSWORD, "full_name": long_name}), 400)
    english = assert_error(api(alpha, language="en").post(
        "/api/v1/auth/register", {"email": "a@example.com", "password": PASSWORD, "full_name": long_name}), 400)
    assert english["fields"]["full_name"] == ["Ensure this field has no more than 150 characters."]
    assert arabic["fields"]["full_name"] != english["fields"]["full_name"]
