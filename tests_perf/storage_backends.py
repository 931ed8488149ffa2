"""A storage like S3's for tests: files live in memory and there is no local path to any of them."""

from __future__ import annotations

import os

from django.core.files.storage import InMemoryStorage


class NoLocalPathStorage(InMemoryStorage):
    """InMemoryStorage whose public ``path()`` raises, as django-storages' S3Storage does.

    InMemoryStorage resolves names through ``path()`` internally (a virtual path,
    never on disk), so its own lookups use the parent's implementation.
    """

    def path(self, name: str) -> str:
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name: str) -> str:
        return os.path.relpath(InMemoryStorage.path(self, name), self.location)
