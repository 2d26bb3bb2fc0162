"""Use cases: one class per capability, one method per user action."""
