"""Feedback (反馈, domain §6): feedback items, their closed loop and their SLA clocks. Pure
Python: services and routes build on it."""
