"""The worker: an entry point beside the HTTP API that relays the outbox to its consumers,
sends webhook deliveries and runs the periodic jobs (``accord worker``; inside ``accord
serve`` on SQLite)."""
