"""Performance and scale-out tests: query counts constant in data size, several qclusters on Redis, storage."""
