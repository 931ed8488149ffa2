"""Cross-cutting security and reliability tests (issue 8): authorization matrix, headers,
health-data leaks, bad input, faults. They test every app together, so they live outside the apps."""
