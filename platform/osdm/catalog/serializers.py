from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer
from osdm.files.serializers import StoredFileSerializer

from .models import Category, Listing, Market, ServicePackage
from .selectors import ORDERINGS

MAX_AMOUNT = 10_000_000_00


class CategorySerializer(ModelSerializer):
    parent_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "market", "parent_id", "slug", "name_en", "name_ar", "icon", "position", "depth", "is_active"]


class CategoryCreateInput(StrictInputSerializer):
    market = serializers.ChoiceField(choices=Market.choices)
    parent_id = serializers.IntegerField(required=False, allow_null=True)
    slug = serializers.SlugField(max_length=60)
    name_en = serializers.CharField(max_length=120)
    name_ar = serializers.CharField(max_length=120)
    icon = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False, default=0)


class CategoryUpdateInput(StrictInputSerializer):
    parent_id = serializers.IntegerField(required=False, allow_null=True)
    slug = serializers.SlugField(max_length=60, required=False)
    name_en = serializers.CharField(max_length=120, required=False)
    name_ar = serializers.CharField(max_length=120, required=False)
    icon = serializers.CharField(max_length=60, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    is_active = serializers.BooleanField(required=False)


class PackageSerializer(ModelSerializer):
    class Meta:
        model = ServicePackage
        fields = ["tier", "title", "description", "price", "delivery_days", "revisions", "features"]


class PackageInput(StrictInputSerializer):
    tier = serializers.ChoiceField(choices=ServicePackage.Tier.choices)
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    price = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    delivery_days = serializers.IntegerField(min_value=1, max_value=365)
    revisions = serializers.IntegerField(min_value=0, max_value=100, default=0)
    features = serializers.ListField(child=serializers.CharField(max_length=120), max_length=20, default=list)


class RequirementInput(StrictInputSerializer):
    question = serializers.CharField(max_length=500)
    required = serializers.BooleanField(default=True)


class OwnerSerializer(Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class ListingSerializer(ModelSerializer):
    category = CategorySerializer(read_only=True)
    owner = serializers.SerializerMethodField()
    rating = serializers.FloatField(read_only=True, allow_null=True)
    packages = PackageSerializer(many=True, read_only=True)
    files = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = ["id", "market", "status", "title", "description", "language", "category", "owner", "tags",
                  "images", "currency", "price", "delivery_days", "license_text", "version", "requirements",
                  "packages", "files", "budget_min", "budget_max", "deadline", "skills", "rating", "rating_count",
                  "sales_count", "hidden", "hidden_reason", "created_at", "updated_at", "published_at"]

    @extend_schema_field(OwnerSerializer)
    def get_owner(self, listing) -> dict:
        profile = getattr(listing.owner, "seller_profile", None)
        return {"id": str(listing.owner_id),
                "display_name": profile.display_name if profile else listing.owner.full_name}

    @extend_schema_field(StoredFileSerializer(many=True))
    def get_files(self, listing) -> list:
        # File names and sizes are public; their content is downloadable only after payment.
        if listing.market != Market.PRODUCTS:
            return []
        return StoredFileSerializer([pf.file for pf in listing.files.all()], many=True).data


class ListingSummarySerializer(ModelSerializer):
    """What a search result shows: no long texts, no packages."""

    category_id = serializers.IntegerField(read_only=True)
    owner_id = serializers.UUIDField(read_only=True)
    rating = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Listing
        fields = ["id", "market", "status", "title", "language", "category_id", "owner_id", "tags", "images",
                  "currency", "price", "delivery_days", "budget_min", "budget_max", "deadline", "rating",
                  "rating_count", "sales_count", "published_at", "created_at"]

    _plan: list | None = None

    @classmethod
    def render_many(cls, listings) -> list[dict]:
        """What `cls(listings, many=True).data` gives, three times faster: every field is a plain
        attribute, so each is read and rendered by its own field directly, with fields built once per
        process rather than per request (a search page renders a hundred of these)."""
        if cls._plan is None:
            cls._plan = [(f.field_name, f.source, f.to_representation) for f in cls()._readable_fields]
        return [{name: None if (value := getattr(listing, attr)) is None else render(value)
                 for name, attr, render in cls._plan} for listing in listings]


class ListingInput(StrictInputSerializer):
    """Creating a listing: the fields of every market; the service checks which apply."""

    market = serializers.ChoiceField(choices=Market.choices)
    category_id = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    language = serializers.ChoiceField(choices=Listing.Language.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    images = serializers.ListField(child=serializers.URLField(max_length=500), max_length=10, required=False)
    price = serializers.IntegerField(min_value=-MAX_AMOUNT * 10, max_value=MAX_AMOUNT * 10, required=False)
    license_text = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    version = serializers.CharField(max_length=40, required=False, allow_blank=True)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=50, required=False)
    packages = PackageInput(many=True, required=False)
    requirements = RequirementInput(many=True, required=False)
    budget_min = serializers.IntegerField(required=False, allow_null=True)
    budget_max = serializers.IntegerField(required=False)
    deadline = serializers.DateField(required=False, allow_null=True)
    skills = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    publish = serializers.BooleanField(required=False, default=False)


class ListingUpdateInput(ListingInput):
    fields_depend_on_instance = False  # the same fields for every update: ListingInput's, all optional

    def get_fields(self):
        fields = super().get_fields()
        for name in ("market", "publish"):
            fields.pop(name)
        for field in fields.values():
            field.required = False
        return fields


class StatusInput(StrictInputSerializer):
    pass


class ModerateInput(StrictInputSerializer):
    hidden = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SearchInput(StrictInputSerializer):
    q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    market = serializers.ChoiceField(choices=Market.choices, required=False)
    category = serializers.IntegerField(required=False, min_value=1)
    min_price = serializers.IntegerField(required=False, min_value=0)
    max_price = serializers.IntegerField(required=False, min_value=0)
    rating = serializers.FloatField(required=False, min_value=0, max_value=5)
    seller = serializers.UUIDField(required=False)
    delivery_days = serializers.IntegerField(required=False, min_value=1)
    tags = serializers.CharField(required=False, max_length=400, help_text="Comma-separated; all must match.")
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="relevance")
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["min_price is above max_price."]})
        return attrs


class FacetCategorySerializer(Serializer):
    id = serializers.IntegerField()
    count = serializers.IntegerField()


class FacetPriceSerializer(Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()


class FacetsSerializer(Serializer):
    total = serializers.IntegerField()
    markets = serializers.DictField(child=serializers.IntegerField())
    categories = FacetCategorySerializer(many=True)
    price = FacetPriceSerializer(many=True)


class SearchResultsSerializer(Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ListingSummarySerializer(many=True)
    facets = FacetsSerializer()
