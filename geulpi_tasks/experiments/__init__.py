"""A/B experiments between model versions: definitions and counters in Redis, sticky assignment, statistics."""
