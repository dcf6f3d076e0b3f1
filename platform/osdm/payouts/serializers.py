from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer

from .models import PayoutDestination, PayoutPolicy, Withdrawal


class PayoutDestinationSerializer(ModelSerializer):
    class Meta:
        model = PayoutDestination
        fields = ["id", "iban", "holder_name", "bank_code", "bank_name", "mobile", "city", "verified_at", "created_at"]


class PayoutDestinationInput(StrictInputSerializer):
    iban = serializers.CharField(max_length=64, help_text="A Saudi IBAN (SA + 22 characters); spaces are ignored.")
    holder_name = serializers.CharField(max_length=100, help_text="The account holder's name, as the bank has it.")
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class WithdrawalSerializer(ModelSerializer):
    seller_id = serializers.UUIDField(read_only=True)
    destination_id = serializers.UUIDField(read_only=True)
    iban_last4 = serializers.SerializerMethodField()
    bank_name = serializers.SerializerMethodField()
    last_error = serializers.SerializerMethodField(
        help_text="Operator only: why the last attempt to send or check the payout did not go through.")

    class Meta:
        model = Withdrawal
        fields = ["id", "seller_id", "destination_id", "iban_last4", "bank_name", "amount", "currency", "status",
                  "gateway", "gateway_payout_id", "gateway_status", "failure_code", "failure_reason",
                  "rejection_reason", "last_error", "created_at", "updated_at", "approved_at", "submitted_at",
                  "paid_at", "failed_at", "rejected_at", "returned_at"]

    def get_iban_last4(self, withdrawal) -> str:
        return withdrawal.destination.iban[-4:]

    def get_bank_name(self, withdrawal) -> str:
        return withdrawal.destination.bank_name

    def get_last_error(self, withdrawal) -> str:
        # Gateway plumbing (timeouts, configuration) is the operator's business, not the seller's.
        request = self.context.get("request")
        return withdrawal.last_error if request is not None and getattr(request.user, "is_operator", False) else ""


class WithdrawalInput(StrictInputSerializer):
    amount = serializers.IntegerField(min_value=1, help_text="Minor units (halalas for SAR).")
    destination_id = serializers.UUIDField()
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False,
                                      help_text="ISO 4217; the marketplace's currency when omitted.")


class ReasonInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)


class PayoutPolicySerializer(ModelSerializer):
    class Meta:
        model = PayoutPolicy
        fields = ["minimum_amount", "auto_approve_below", "gateway", "updated_at"]


class PayoutPolicyInput(StrictInputSerializer):
    minimum_amount = serializers.IntegerField(min_value=1, required=False, help_text="Minor units.")
    auto_approve_below = serializers.IntegerField(
        min_value=0, required=False, help_text="Requests below this are approved at once; 0 turns it off.")
    gateway = serializers.CharField(max_length=32, required=False, help_text="A gateway that pays out (moyasar).")
