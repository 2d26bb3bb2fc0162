"""SQLAlchemy adapters: tables, repositories and the unit of work (implement the ports)."""
