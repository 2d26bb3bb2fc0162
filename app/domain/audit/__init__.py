"""The tamper-evident audit log (domain §9)."""
