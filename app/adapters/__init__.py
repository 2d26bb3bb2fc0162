"""Adapters that are not storage: time, password hashing, token signing."""
