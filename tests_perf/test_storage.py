"""Letter PDFs go through the storage API only: delivery and download work on a storage with no local paths,
and S3 settings switch the default storage to django-storages' S3 backend."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage, storages
from django.test import Client

from accounts.models import User
from letters import tasks
from letters.models import DeliveryReason, DeliveryStatus, LetterDelivery
from letters.tests.factories import LetterFactory
from tests_perf.storage_backends import NoLocalPathStorage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def memory_storage(settings: Any, tmp_path: Path) -> Path:
    """A storage without local paths (in memory, like S3) as the default; MEDIA_ROOT points at an empty directory that must stay empty."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests_perf.storage_backends.NoLocalPathStorage"}}
    return media


@pytest.mark.django_db
def test_delivery_and_download_work_on_a_storage_without_local_paths(
    memory_storage: Path, client: Client, shopper: User, mailoutbox: list[Any]
) -> None:
    assert isinstance(storages["default"], NoLocalPathStorage)
    with pytest.raises(NotImplementedError):
        default_storage.path("letters/x.pdf")
    letter = LetterFactory(consultation__patient=shopper)
    delivery = LetterDelivery.objects.create(letter=letter, reason=DeliveryReason.ISSUED, recipient=shopper.email)

    assert tasks.letter_deliver(str(delivery.pk)) is True

    letter.refresh_from_db()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert default_storage.exists(letter.pdf.name)
    with default_storage.open(letter.pdf.name, "rb") as handle:
        stored = handle.read()
    assert hashlib.sha256(stored).hexdigest() == letter.pdf_sha256
    [message] = mailoutbox
    [(_, attached, _)] = message.attachments
    assert attached == stored
    assert list(memory_storage.rglob("*")) == []  # nothing touched the local disk

    client.force_login(shopper)
    response = client.get(f"/letters/{letter.pk}/pdf/")
    assert response.status_code == 200
    assert response.content == stored


def test_s3_settings_switch_letter_pdfs_to_django_storages_s3(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flexlmn.settings.base",
        "DEBUG": "1",
        "SECRET_KEY": "storage-test-only-not-a-secret",
        "AWS_STORAGE_BUCKET_NAME": "flexlmn-letters-test",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LOCATION": "letters-media",
        "FLEXLMN_VAR_DIR": str(tmp_path),
    }
    script = (
        "import django; django.setup();"
        "from django.core.files.storage import default_storage as s;"
        "s._setup();"
        "print(type(s._wrapped).__module__, type(s._wrapped).__name__, s.bucket_name, s.location, s.default_acl)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["storages.backends.s3", "S3Storage", "flexlmn-letters-test", "letters-media", "None"]


def test_without_s3_settings_letter_pdfs_stay_on_the_local_disk(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "flexlmn.settings.base",
        "DEBUG": "1",
        "SECRET_KEY": "storage-test-only-not-a-secret",
        "FLEXLMN_VAR_DIR": str(tmp_path),
    }
    script = (
        "import django; django.setup();"
        "from django.core.files.storage import default_storage as s; s._setup();"
        "print(type(s._wrapped).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert out == "FileSystemStorage"
