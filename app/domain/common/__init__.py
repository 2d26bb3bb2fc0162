"""Pieces every feature shares: ids, errors with stable codes, domain events."""
