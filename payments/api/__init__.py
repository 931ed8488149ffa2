"""The merchant API (``/api/v1/``): keys, checkout sessions, products. See docs/INTEGRATION.md."""
