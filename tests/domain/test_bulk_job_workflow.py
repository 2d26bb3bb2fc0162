"""A bulk job's lease (the worker's claim on it): held, it keeps other workers out; run
out, any worker takes the job over; released by a graceful stop, at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.bulk.model import BulkJob, JobKind, JobState
from app.domain.bulk.workflow import Party, apply
from app.domain.common.errors import DomainError

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
WORKER = frozenset({Party.WORKER})


def _queued() -> BulkJob:
    return BulkJob(uuid.uuid4(), JobKind.IMPORT, JobState.QUEUED, uuid.uuid4(), {}, {}, NOW)


def _claimed(by: str = "a") -> BulkJob:
    return apply(_queued(), "claim", WORKER, NOW, lease_until=NOW + timedelta(minutes=5),
                 lease_owner=by)


def test_a_held_lease_keeps_another_worker_out_until_it_runs_out() -> None:
    job = _claimed()
    with pytest.raises(DomainError):
        apply(job, "claim", WORKER, NOW + timedelta(minutes=4, seconds=59),
              lease_until=NOW + timedelta(minutes=10), lease_owner="b")
    taken = apply(job, "claim", WORKER, NOW + timedelta(minutes=5),
                  lease_until=NOW + timedelta(minutes=10), lease_owner="b")
    assert (taken.state, taken.lease_owner) == (JobState.RUNNING, "b")


def test_a_released_job_is_taken_over_at_once_and_keeps_its_place() -> None:
    job = _claimed()
    job.position, job.counts = 3, {"created": 3}
    released = apply(job, "release", WORKER, NOW + timedelta(seconds=30))
    assert (released.state, released.lease_until, released.lease_owner) == (
        JobState.RUNNING, NOW + timedelta(seconds=30), None)
    assert (released.position, released.counts, released.finished_at) == (3, {"created": 3},
                                                                           None)
    taken = apply(released, "claim", WORKER, NOW + timedelta(seconds=30),
                  lease_until=NOW + timedelta(minutes=6), lease_owner="b")
    assert (taken.lease_owner, taken.started_at) == ("b", NOW)


@pytest.mark.parametrize("parties", [frozenset({Party.SUBMITTER}), frozenset({Party.ADMIN})])
def test_only_the_worker_releases_a_job(parties: frozenset[Party]) -> None:
    with pytest.raises(DomainError):
        apply(_claimed(), "release", parties, NOW)


def test_a_queued_or_finished_job_has_no_lease_to_release() -> None:
    with pytest.raises(DomainError):
        apply(_queued(), "release", WORKER, NOW)
    done = apply(_claimed(), "complete", WORKER, NOW)
    with pytest.raises(DomainError):
        apply(done, "release", WORKER, NOW)
