from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer
from osdm.ledger.models import Transfer

from .models import Escrow


class EscrowSerializer(ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)
    milestone_id = serializers.UUIDField(read_only=True, allow_null=True)
    buyer_id = serializers.UUIDField(read_only=True)
    seller_id = serializers.UUIDField(read_only=True)
    market = serializers.SerializerMethodField()

    class Meta:
        model = Escrow
        fields = ["id", "order_id", "milestone_id", "market", "buyer_id", "seller_id", "amount", "commission",
                  "seller_amount", "currency", "status", "created_at", "held_at", "release_after", "released_at",
                  "refunded_at"]

    @extend_schema_field(serializers.ChoiceField(choices=["products", "services", "projects"]))
    def get_market(self, escrow) -> str:
        return {"product": "products", "service": "services", "contract": "projects"}[escrow.order.kind]


class WalletBalanceSerializer(Serializer):
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text="Can be withdrawn now (minor units).")
    pending = serializers.IntegerField(help_text="Held in escrow for you, not yet released.")
    paid_out = serializers.IntegerField(help_text="Withdrawn, in transit or paid, and not returned.")
    owed = serializers.IntegerField(help_text="Refunds taken back after you withdrew that your wallet could not "
                                              "cover; repaid from your next earnings before they are available.")


class WalletSerializer(Serializer):
    balances = WalletBalanceSerializer(many=True)


class WalletTransactionSerializer(ModelSerializer):
    direction = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    order_id = serializers.SerializerMethodField()

    class Meta:
        model = Transfer
        fields = ["id", "code", "amount", "currency", "direction", "status", "reference", "order_id", "created_at"]

    @extend_schema_field(serializers.ChoiceField(choices=["in", "out"]))
    def get_direction(self, transfer) -> str:
        return "in" if transfer.credit_account.kind == "wallet" and \
            transfer.credit_account.owner_id == self.context["user"].pk else "out"

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "released", "voided", "posted"]))
    def get_status(self, transfer) -> str:
        """A hold: `pending` while held, then `released` or `voided` (a partial refund voids it and
        holds the rest anew). Anything else moved money when it was made: `posted`."""
        if transfer.kind != Transfer.Kind.PENDING:
            return "posted"
        return {Transfer.Kind.POST_PENDING: "released", Transfer.Kind.VOID_PENDING: "voided"}.get(
            getattr(transfer, "resolution_kind", None), "pending")

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_order_id(self, transfer) -> str | None:
        return self.context.get("order_ids", {}).get(transfer.reference)
