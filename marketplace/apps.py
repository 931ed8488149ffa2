from __future__ import annotations

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Flex Shop"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - merges the anonymous cart at login
