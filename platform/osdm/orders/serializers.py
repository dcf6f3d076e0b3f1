from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.catalog.models import ServicePackage
from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer
from osdm.files.serializers import StoredFileSerializer

from .models import Milestone, Order, OrderDelivery, Proposal, StatusChange

MAX_AMOUNT = 10_000_000_00


class MilestoneSerializer(ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "position", "title", "amount", "commission", "seller_amount", "status", "due_at",
                  "revisions_used", "funded_at", "delivered_at", "accepted_at"]


class OrderDeliverySerializer(ModelSerializer):
    milestone_id = serializers.UUIDField(allow_null=True, read_only=True)
    files = StoredFileSerializer(many=True, read_only=True)

    class Meta:
        model = OrderDelivery
        fields = ["id", "milestone_id", "message", "files", "created_at"]


class StatusChangeSerializer(ModelSerializer):
    milestone_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "milestone_id", "actor_type", "actor_id", "note", "created_at"]


class OrderSerializer(ModelSerializer):
    buyer_id = serializers.UUIDField(read_only=True)
    seller_id = serializers.UUIDField(read_only=True)
    listing_id = serializers.UUIDField(read_only=True)
    package = serializers.SerializerMethodField()
    proposal_id = serializers.UUIDField(read_only=True, allow_null=True)
    is_late = serializers.BooleanField(read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "kind", "status", "buyer_id", "seller_id", "listing_id", "package", "proposal_id",
                  "title", "currency", "subtotal", "commission_bps", "commission", "total", "seller_amount",
                  "requirements", "delivery_days", "revisions_included", "revisions_used", "due_at", "is_late",
                  "milestones", "created_at", "paid_at", "delivered_at", "completed_at", "cancelled_at"]

    @extend_schema_field(serializers.ChoiceField(choices=ServicePackage.Tier.choices, allow_null=True))
    def get_package(self, order) -> str | None:
        return order.package.tier if order.package_id else None


class OrderPaymentSerializer(Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class OrderDetailSerializer(OrderSerializer):
    deliveries = OrderDeliverySerializer(many=True, read_only=True)
    history = StatusChangeSerializer(many=True, read_only=True, source="status_changes")
    payment = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "payment", "deliveries", "history"]

    @extend_schema_field(OrderPaymentSerializer(allow_null=True))
    def get_payment(self, order) -> dict | None:
        """The order's payment (contracts are paid per milestone: see each milestone's payment)."""
        payment = next((p for p in order.payments.all() if p.milestone_id is None), None)
        return OrderPaymentSerializer(payment).data if payment else None


class AnswerInput(StrictInputSerializer):
    question = serializers.CharField(max_length=500)
    answer = serializers.CharField(max_length=5000, allow_blank=True)


class OrderCreateInput(StrictInputSerializer):
    listing_id = serializers.UUIDField()
    package = serializers.ChoiceField(choices=ServicePackage.Tier.choices, required=False)
    requirements = AnswerInput(many=True, required=False)


class DeliverInput(StrictInputSerializer):
    message = serializers.CharField(max_length=10000)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=20, required=False, default=list)
    milestone_id = serializers.UUIDField(required=False)


class MessageInput(StrictInputSerializer):
    message = serializers.CharField(max_length=5000)


class CancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class MilestoneInput(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    due_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class ProposalInput(StrictInputSerializer):
    cover_letter = serializers.CharField(max_length=10000)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    duration_days = serializers.IntegerField(min_value=1, max_value=3650)
    milestones = MilestoneInput(many=True, required=False)


class ProposalSerializer(ModelSerializer):
    listing_id = serializers.UUIDField(read_only=True)
    seller_id = serializers.UUIDField(read_only=True)
    contract_id = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = ["id", "listing_id", "seller_id", "cover_letter", "amount", "currency", "duration_days",
                  "milestones", "status", "contract_id", "created_at", "decided_at"]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_contract_id(self, proposal) -> str | None:
        contract = getattr(proposal, "contract", None) if proposal.status == Proposal.Status.ACCEPTED else None
        return str(contract.pk) if contract else None
