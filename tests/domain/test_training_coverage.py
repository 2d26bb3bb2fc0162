"""Coverage figures worked out by hand: five people of two departments, one with two
roles, against one course, on a day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from app.domain.access.roles import Role
from app.domain.training.coverage import Person, coverage
from app.domain.training.model import Completion, Course, valid_through

EAST, WEST = UUID(int=1), UUID(int=2)
ON = date(2026, 6, 30)
COURSE = Course(uuid4(), "数据保护", "data_protection", [], 6, Decimal(80), None, uuid4(), 1,
                datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


def done(person: Person, on: date) -> Completion:
    return Completion(uuid4(), person.id, COURSE.id, uuid4(), on, valid_through(on, 6))


def test_trained_lapsed_and_never_per_department_and_role() -> None:
    head = Person(uuid4(), EAST, frozenset({Role.DEPARTMENT_HEAD}))
    am1 = Person(uuid4(), EAST, frozenset({Role.ACCOUNT_MANAGER}))
    am2 = Person(uuid4(), EAST, frozenset({Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER}))
    am3 = Person(uuid4(), EAST, frozenset({Role.ACCOUNT_MANAGER}))
    west = Person(uuid4(), WEST, frozenset({Role.ACCOUNT_MANAGER}))
    completions = [
        done(head, date(2025, 12, 30)),  # valid through 30 June 2026: trained on the day
        done(am1, date(2025, 12, 29)),  # valid through 29 June: lapsed
        done(am2, date(2025, 6, 1)), done(am2, date(2026, 3, 1)),  # renewed: trained
        done(west, date(2026, 7, 1)),  # after the day: does not count yet
    ]
    rows = coverage([head, am1, am2, am3, west], [COURSE], completions, ON)
    figures = {(r.department_id, r.role): (r.trained, r.lapsed, r.never) for r in rows}
    assert figures == {
        (EAST, Role.ACCOUNT_MANAGER): (1, 1, 1),  # am2 / am1 / am3
        (EAST, Role.DEPARTMENT_HEAD): (1, 0, 0),
        (EAST, Role.PROJECT_MANAGER): (1, 0, 0),  # am2 again, under the second role
        (WEST, Role.ACCOUNT_MANAGER): (0, 0, 1),
    }
    # Only completions since 1 January count: am2's renewal does, am1's and the head's not.
    since = {(r.department_id, r.role): (r.trained, r.lapsed, r.never)
             for r in coverage([head, am1, am2, am3, west], [COURSE], completions, ON,
                               since=date(2026, 1, 1))}
    assert since[(EAST, Role.ACCOUNT_MANAGER)] == (1, 0, 2)
    assert since[(EAST, Role.DEPARTMENT_HEAD)] == (0, 0, 1)
