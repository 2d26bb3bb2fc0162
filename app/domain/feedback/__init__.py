"""Feedback and satisfaction (domain §6): feedback items and their closed loop, SLA clocks,
honest survey scores and customer health. Pure Python: services and routes build on it."""
