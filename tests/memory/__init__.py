"""An in-memory unit of work (cosmicpython's ``tests/unit/fakes.py``, grown to this
project's ports) so rule-heavy use cases run in milliseconds, without a database.

It implements the ports the use-case tests need, with plain dicts of domain objects, and
keeps the two things a fake must not fake: a commit publishes, leaving without one
discards (``store.py``), and reads honour the record scope the SQL filters apply."""
