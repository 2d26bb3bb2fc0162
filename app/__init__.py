"""Accord: a customer-governance API."""

__version__ = "0.1.0"
