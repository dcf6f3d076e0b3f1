"""The API's resources, one module each, sync and async classes side by side."""

from .audit_log import AsyncAuditLog, AsyncCSVStream, AuditLog, CSVStream
from .auth import AsyncAuth, Auth
from .categories import AsyncCategories, Categories
from .conversations import AsyncConversationMessages, AsyncConversations, ConversationMessages, Conversations
from .dashboards import AsyncDashboards, Dashboards
from .disputes import AsyncDisputeMessages, AsyncDisputes, DisputeMessages, Disputes
from .escrows import AsyncEscrows, Escrows
from .events import AsyncEvents, Events
from .files import AsyncFiles, FileContent, FileDestination, Files
from .listings import AsyncListingProposals, AsyncListings, ListingProposals, Listings
from .marketplace import AsyncMarketplaceResource, MarketplaceResource
from .me import (
    AsyncMe,
    AsyncMyLibrary,
    AsyncMyListings,
    AsyncSellerProfileResource,
    Me,
    MyLibrary,
    MyListings,
    SellerProfileResource,
)
from .messaging import AsyncBlocks, AsyncMessagingPolicyResource, Blocks, MessagingPolicyResource
from .notifications import (
    AsyncNotificationPreferences,
    AsyncNotifications,
    NotificationPreferences,
    Notifications,
)
from .orders import (
    AsyncOrderMilestones,
    AsyncOrderReviews,
    AsyncOrders,
    OrderMilestones,
    OrderReviews,
    Orders,
)
from .payment_gateways import AsyncPaymentGateways, PaymentGateways
from .payment_methods import AsyncPaymentMethods, PaymentMethods
from .payments import AsyncPaymentRefunds, AsyncPayments, PaymentRefunds, Payments
from .payouts import (
    AsyncPayoutDestinations,
    AsyncPayoutPolicyResource,
    AsyncReconciliationResource,
    PayoutDestinations,
    PayoutPolicyResource,
    ReconciliationResource,
)
from .proposals import AsyncProposals, Proposals
from .reviews import AsyncReviews, Reviews
from .secret_keys import AsyncSecretKeys, SecretKeys
from .tenants import AsyncTenants, AsyncTenantSecretKeys, Tenants, TenantSecretKeys
from .users import AsyncUsers, Users
from .wallet import AsyncWalletResource, AsyncWalletTransactions, WalletResource, WalletTransactions
from .webhook_deliveries import AsyncWebhookDeliveries, WebhookDeliveries
from .webhook_endpoints import (
    AsyncWebhookEndpointDeliveries,
    AsyncWebhookEndpoints,
    WebhookEndpointDeliveries,
    WebhookEndpoints,
)
from .withdrawals import AsyncWithdrawals, Withdrawals

__all__ = [
    "AsyncAuditLog",
    "AsyncAuth",
    "AsyncBlocks",
    "AsyncCSVStream",
    "AsyncCategories",
    "AsyncConversationMessages",
    "AsyncConversations",
    "AsyncDashboards",
    "AsyncDisputeMessages",
    "AsyncDisputes",
    "AsyncEscrows",
    "AsyncEvents",
    "AsyncFiles",
    "AsyncListingProposals",
    "AsyncListings",
    "AsyncMarketplaceResource",
    "AsyncMe",
    "AsyncMessagingPolicyResource",
    "AsyncMyLibrary",
    "AsyncMyListings",
    "AsyncNotificationPreferences",
    "AsyncNotifications",
    "AsyncOrderMilestones",
    "AsyncOrderReviews",
    "AsyncOrders",
    "AsyncPaymentGateways",
    "AsyncPaymentMethods",
    "AsyncPaymentRefunds",
    "AsyncPayments",
    "AsyncPayoutDestinations",
    "AsyncPayoutPolicyResource",
    "AsyncProposals",
    "AsyncReconciliationResource",
    "AsyncReviews",
    "AsyncSecretKeys",
    "AsyncSellerProfileResource",
    "AsyncTenantSecretKeys",
    "AsyncTenants",
    "AsyncUsers",
    "AsyncWalletResource",
    "AsyncWalletTransactions",
    "AsyncWebhookDeliveries",
    "AsyncWebhookEndpointDeliveries",
    "AsyncWebhookEndpoints",
    "AsyncWithdrawals",
    "AuditLog",
    "Auth",
    "Blocks",
    "CSVStream",
    "Categories",
    "ConversationMessages",
    "Conversations",
    "Dashboards",
    "DisputeMessages",
    "Disputes",
    "Escrows",
    "Events",
    "FileContent",
    "FileDestination",
    "Files",
    "ListingProposals",
    "Listings",
    "MarketplaceResource",
    "Me",
    "MessagingPolicyResource",
    "MyLibrary",
    "MyListings",
    "NotificationPreferences",
    "Notifications",
    "OrderMilestones",
    "OrderReviews",
    "Orders",
    "PaymentGateways",
    "PaymentMethods",
    "PaymentRefunds",
    "Payments",
    "PayoutDestinations",
    "PayoutPolicyResource",
    "Proposals",
    "ReconciliationResource",
    "Reviews",
    "SecretKeys",
    "SellerProfileResource",
    "TenantSecretKeys",
    "Tenants",
    "Users",
    "WalletResource",
    "WalletTransactions",
    "WebhookDeliveries",
    "WebhookEndpointDeliveries",
    "WebhookEndpoints",
    "Withdrawals",
]
