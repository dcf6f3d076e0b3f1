"""Users of one marketplace (tenant schema). The same e-mail in two tenants is two people.

A user can buy; selling needs a `SellerProfile`. `token_version` is bumped whenever every token the
user holds must stop working (password change, deactivation).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager):
    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    class Locale(models.TextChoices):
        AR = "ar", "العربية"
        EN = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    locale = models.CharField(max_length=5, choices=Locale.choices, default=Locale.AR)
    is_active = models.BooleanField(default=True)
    token_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(locale__in=["ar", "en"]), name="accounts_user_locale_valid"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_operator(self) -> bool:
        return False

    @property
    def is_seller(self) -> bool:
        return hasattr(self, "seller_profile")


class SellerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="seller_profile", primary_key=True)
    display_name = models.CharField(max_length=100)
    bio = models.TextField(max_length=5000, blank=True)
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    avatar_url = models.URLField(max_length=500, blank=True)
    # From the published reviews buyers wrote of this seller (osdm.reviews keeps them exact).
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="seller_country_iso2"),
        ]

    def __str__(self) -> str:
        return self.display_name
