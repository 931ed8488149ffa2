from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    SHOPPER = "shopper", "Shopper"
    CLINICIAN = "clinician", "Clinician"
    OPS = "ops", "Ops staff"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", extra.get("role") == Role.OPS)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True, role=Role.OPS)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: shopper, clinician or ops staff. Email is the login."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SHOPPER)
    is_staff = models.BooleanField(
        default=False, help_text="Can open the Django admin (ops staff). MFA is required before it opens."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of every session's auth hash: bumping it (logout, deactivation) ends
    # every session of this user on every device, whatever the session store.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_generation}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_shopper(self) -> bool:
        return self.role == Role.SHOPPER

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_ops(self) -> bool:
        return self.role == Role.OPS or self.is_superuser

    @property
    def requires_mfa(self) -> bool:
        """Clinicians and anyone who can open the admin must use a second factor."""
        return self.is_clinician or self.is_ops or self.is_staff


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")

    def _seal(self, *, chain_seq: int, prev_hash: str, chain_hash: str) -> int:
        """The one permitted write: seal an unsealed event into the hash chain (accounts.audit)."""
        unsealed = self.filter(chain_hash="")
        return models.QuerySet.update(unsealed, chain_seq=chain_seq, prev_hash=prev_hash, chain_hash=chain_hash)


class AuditEventImmutable(Exception):
    pass


class AuditEvent(models.Model):
    """Who did what to which object, when. Never the health data itself.

    Append-only: the ORM refuses updates and deletes, and on PostgreSQL a
    trigger (migrations 0002/0005) rejects UPDATE and DELETE on the table,
    except sealing: setting ``chain_seq``/``prev_hash``/``chain_hash`` once on
    an unsealed row. Each sealed event's hash covers its fields and the
    previous event's hash, so an edit made behind the ORM's back breaks the
    chain (``manage.py audit_verify``).
    """

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. consultation.viewed")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Non-health metadata only, such as a new status: {"status": "approved"}.
    extra = models.JSONField(default=dict, blank=True)
    # The hash chain, filled once by accounts.audit.audit_seal() right after commit.
    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")
