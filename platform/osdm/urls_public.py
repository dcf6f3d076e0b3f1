"""URLs on the bare base domain: the platform API under /platform/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tenants import views

platform_v1 = [
    path("tenants/", views.TenantListCreateView.as_view(), name="tenants"),
    path("tenants/<str:slug>/", views.TenantDetailView.as_view(), name="tenant-detail"),
    path("tenants/<str:slug>/suspend", views.TenantSuspendView.as_view(), name="tenant-suspend"),
    path("tenants/<str:slug>/activate", views.TenantActivateView.as_view(), name="tenant-activate"),
    path("tenants/<str:slug>/secret-keys/", views.PlatformSecretKeysView.as_view(), name="tenant-secret-keys"),
    path("schema/", SpectacularAPIView.as_view(urlconf="osdm.urls_public", authentication_classes=[],
                                               permission_classes=[]), name="platform-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="platform-schema", authentication_classes=[],
                                                 permission_classes=[]), name="platform-docs"),
]

urlpatterns = [path("platform/v1/", include(platform_v1))]

handler404 = "osdm.core.views.not_found"
handler500 = "osdm.core.views.server_error"
