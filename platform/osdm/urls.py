"""URLs on a marketplace's host: the tenant API under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from osdm.accounts import views as accounts
from osdm.analytics import views as analytics
from osdm.audit import views as audit
from osdm.catalog import views as catalog
from osdm.disputes import views as disputes
from osdm.escrow import views as escrow
from osdm.files import views as files
from osdm.ledger import views as ledger
from osdm.messaging import views as messaging
from osdm.notifications import views as notifications
from osdm.orders import views as orders
from osdm.payments import views as payments
from osdm.payouts import views as payouts
from osdm.reviews import views as reviews
from tenants import views as tenants
from webhooks import views as webhooks

api_v1 = [
    path("auth/register", accounts.RegisterView.as_view(), name="auth-register"),
    path("auth/token", accounts.TokenView.as_view(), name="auth-token"),
    path("auth/refresh", accounts.RefreshView.as_view(), name="auth-refresh"),
    path("me", accounts.MeView.as_view(), name="me"),
    path("me/seller-profile", accounts.SellerProfileView.as_view(), name="me-seller-profile"),
    path("users/", accounts.UserListView.as_view(), name="users"),
    path("users/<uuid:pk>/", accounts.UserDetailView.as_view(), name="user-detail"),
    path("marketplace", tenants.MarketplaceView.as_view(), name="marketplace"),
    path("secret-keys/", tenants.SecretKeysView.as_view(), name="secret-keys"),
    path("secret-keys/<int:key_id>/revoke", tenants.SecretKeyRevokeView.as_view(), name="secret-key-revoke"),
    path("categories/", catalog.CategoryListView.as_view(), name="categories"),
    path("categories/load-default", catalog.CategoryLoadDefaultView.as_view()),
    path("categories/<int:category_id>/", catalog.CategoryDetailView.as_view(), name="category"),
    path("listings/", catalog.ListingListCreateView.as_view(), name="listings"),
    path("listings/<uuid:listing_id>/", catalog.ListingDetailView.as_view(), name="listing"),
    path("listings/<uuid:listing_id>/publish", catalog.ListingPublishView.as_view()),
    path("listings/<uuid:listing_id>/pause", catalog.ListingPauseView.as_view()),
    path("listings/<uuid:listing_id>/close", catalog.ListingCloseView.as_view()),
    path("listings/<uuid:listing_id>/moderate", catalog.ListingModerateView.as_view()),
    path("listings/<uuid:listing_id>/proposals/", orders.ListingProposalsView.as_view()),
    path("me/listings/", catalog.MyListingsView.as_view()),
    path("me/library/", orders.LibraryView.as_view()),
    path("files/", files.FileUploadView.as_view(), name="files"),
    path("files/<uuid:file_id>/", files.FileDetailView.as_view(), name="file"),
    path("files/<uuid:file_id>/download", files.FileDownloadView.as_view(), name="file-download"),
    path("files/<uuid:file_id>/link", files.FileLinkView.as_view(), name="file-link"),
    path("files/<uuid:file_id>/thumbnail", files.FileThumbnailView.as_view(), name="file-thumbnail"),
    path("orders/", orders.OrderListCreateView.as_view(), name="orders"),
    path("orders/<uuid:order_id>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<uuid:order_id>/deliver", orders.OrderDeliverView.as_view()),
    path("orders/<uuid:order_id>/complete", orders.OrderCompleteView.as_view()),
    path("orders/<uuid:order_id>/revision", orders.OrderRevisionView.as_view()),
    path("orders/<uuid:order_id>/cancel", orders.OrderCancelView.as_view()),
    path("orders/<uuid:order_id>/milestones/<uuid:milestone_id>/accept", orders.MilestoneAcceptView.as_view()),
    path("orders/<uuid:order_id>/milestones/<uuid:milestone_id>/revision", orders.MilestoneRevisionView.as_view()),
    path("orders/<uuid:order_id>/milestones/<uuid:milestone_id>/cancel", orders.MilestoneCancelView.as_view()),
    path("orders/<uuid:order_id>/milestones/<uuid:milestone_id>/payment", payments.MilestonePaymentView.as_view()),
    path("payments/", payments.PaymentListView.as_view(), name="payments"),
    path("payments/webhooks/<str:gateway>/", payments.GatewayCallbackView.as_view(), name="payment-callback"),
    path("payments/<uuid:payment_id>/", payments.PaymentDetailView.as_view(), name="payment"),
    path("payments/<uuid:payment_id>/process", payments.PaymentProcessView.as_view()),
    path("payments/<uuid:payment_id>/confirm", payments.PaymentConfirmView.as_view()),
    path("payments/<uuid:payment_id>/sync", payments.PaymentSyncView.as_view()),
    path("payments/<uuid:payment_id>/refunds", payments.PaymentRefundsView.as_view()),
    path("payment-gateways/", payments.GatewayConfigListView.as_view()),
    path("payment-gateways/<str:gateway>", payments.GatewayConfigDetailView.as_view()),
    path("payment-methods/", payments.MethodRouteListView.as_view()),
    path("payment-methods/<str:method>", payments.MethodRouteDetailView.as_view()),
    path("escrows/", escrow.EscrowListView.as_view(), name="escrows"),
    path("escrows/<uuid:escrow_id>/", escrow.EscrowDetailView.as_view(), name="escrow"),
    path("escrows/<uuid:escrow_id>/release", escrow.EscrowReleaseView.as_view()),
    path("escrows/<uuid:escrow_id>/dispute", disputes.EscrowDisputeView.as_view()),
    path("disputes/", disputes.DisputeListView.as_view(), name="disputes"),
    path("disputes/<uuid:dispute_id>/", disputes.DisputeDetailView.as_view(), name="dispute"),
    path("disputes/<uuid:dispute_id>/messages", disputes.DisputeMessagesView.as_view()),
    path("disputes/<uuid:dispute_id>/resolve", disputes.DisputeResolveView.as_view()),
    path("reconciliation", ledger.ReconciliationView.as_view(), name="reconciliation"),
    path("wallet/", escrow.WalletView.as_view(), name="wallet"),
    path("wallet/transactions/", escrow.WalletTransactionsView.as_view(), name="wallet-transactions"),
    path("payout-destinations/", payouts.PayoutDestinationListView.as_view(), name="payout-destinations"),
    path("payout-destinations/<uuid:destination_id>/", payouts.PayoutDestinationDetailView.as_view()),
    path("withdrawals/", payouts.WithdrawalListView.as_view(), name="withdrawals"),
    path("withdrawals/<uuid:withdrawal_id>/", payouts.WithdrawalDetailView.as_view(), name="withdrawal"),
    path("withdrawals/<uuid:withdrawal_id>/approve", payouts.WithdrawalApproveView.as_view()),
    path("withdrawals/<uuid:withdrawal_id>/reject", payouts.WithdrawalRejectView.as_view()),
    path("withdrawals/<uuid:withdrawal_id>/mark-returned", payouts.WithdrawalMarkReturnedView.as_view()),
    path("withdrawals/<uuid:withdrawal_id>/sync", payouts.WithdrawalSyncView.as_view()),
    path("payout-policy", payouts.PayoutPolicyView.as_view(), name="payout-policy"),
    path("orders/<uuid:order_id>/reviews", reviews.OrderReviewsView.as_view()),
    path("dashboards/overview", analytics.OverviewView.as_view(), name="dashboard-overview"),
    path("dashboards/seller", analytics.SellerDashboardView.as_view(), name="dashboard-seller"),
    path("dashboards/buyer", analytics.BuyerDashboardView.as_view(), name="dashboard-buyer"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notifications"),
    path("notifications/read", notifications.NotificationReadView.as_view()),
    path("notification-preferences/", notifications.PreferenceListView.as_view()),
    path("notification-preferences/<str:kind>", notifications.PreferenceDetailView.as_view()),
    path("reviews/", reviews.ReviewListView.as_view(), name="reviews"),
    path("reviews/<uuid:review_id>/reply", reviews.ReviewReplyView.as_view()),
    path("reviews/<uuid:review_id>/hide", reviews.ReviewHideView.as_view()),
    path("proposals/", orders.ProposalListView.as_view(), name="proposals"),
    path("proposals/<uuid:proposal_id>/accept", orders.ProposalAcceptView.as_view()),
    path("proposals/<uuid:proposal_id>/decline", orders.ProposalDeclineView.as_view()),
    path("proposals/<uuid:proposal_id>/withdraw", orders.ProposalWithdrawView.as_view()),
    path("conversations/", messaging.ConversationListCreateView.as_view(), name="conversations"),
    path("conversations/<uuid:conversation_id>/", messaging.ConversationDetailView.as_view(), name="conversation"),
    path("conversations/<uuid:conversation_id>/messages/", messaging.ConversationMessagesView.as_view(),
         name="conversation-messages"),
    path("conversations/<uuid:conversation_id>/messages", messaging.ConversationMessageCreateView.as_view()),
    path("conversations/<uuid:conversation_id>/read", messaging.ConversationReadView.as_view()),
    path("blocks/", messaging.BlockListCreateView.as_view(), name="blocks"),
    path("blocks/<uuid:user_id>/", messaging.BlockDetailView.as_view(), name="block"),
    path("messaging-policy", messaging.MessagingPolicyView.as_view(), name="messaging-policy"),
    path("webhook-endpoints/", webhooks.EndpointListCreateView.as_view(), name="webhook-endpoints"),
    path("webhook-endpoints/<str:endpoint_id>/", webhooks.EndpointDetailView.as_view(), name="webhook-endpoint"),
    path("webhook-endpoints/<str:endpoint_id>/secret", webhooks.EndpointSecretView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/rotate-secret", webhooks.EndpointRotateView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/test", webhooks.EndpointTestView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/deliveries/", webhooks.EndpointDeliveriesView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/redeliver-failed", webhooks.EndpointRedeliverFailedView.as_view()),
    path("webhook-deliveries/<int:delivery_id>/redeliver", webhooks.DeliveryRedeliverView.as_view()),
    path("events/", webhooks.EventListView.as_view(), name="events"),
    path("events/<str:event_id>/", webhooks.EventDetailView.as_view(), name="event"),
    path("audit-log/", audit.AuditLogView.as_view(), name="audit-log"),
    path("audit-log/export", audit.AuditExportView.as_view(), name="audit-log-export"),
    path("schema/", SpectacularAPIView.as_view(urlconf="osdm.urls", authentication_classes=[],
                                               permission_classes=[]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[],
                                                 permission_classes=[]), name="docs"),
]

urlpatterns = [path("api/v1/", include(api_v1))]

handler404 = "osdm.core.views.not_found"
handler500 = "osdm.core.views.server_error"
