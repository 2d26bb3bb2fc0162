"""A bulk job's states as a table: ``queued → running → completed | failed | cancelled``.
The worker claims a queued job, or a running one whose lease ran out (its worker died:
the job resumes from its last committed chunk) or was released (its worker was stopped
gracefully: any worker may go on at once); the submitter or an administrator may cancel a
job that has not finished."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from app.domain.bulk.model import BulkJob, JobState
from app.domain.common.workflow import Transition, leaving, require_guards, require_party


class Party(StrEnum):
    WORKER = "worker"
    SUBMITTER = "submitter"
    ADMIN = "admin"


@dataclass(frozen=True)
class Facts:
    job: BulkJob
    now: datetime




def _lease_free(facts: Facts) -> str | None:
    job = facts.job
    if job.state is JobState.RUNNING and job.lease_until is not None and \
            job.lease_until > facts.now:
        return "another worker holds the job"
    return None


Action = Transition[JobState, Party, Facts]

ACTIONS = {a.name: a for a in (
    Action("claim", frozenset({JobState.QUEUED, JobState.RUNNING}), JobState.RUNNING,
           frozenset({Party.WORKER}), (_lease_free,)),
    Action("complete", frozenset({JobState.RUNNING}), JobState.COMPLETED,
           frozenset({Party.WORKER})),
    Action("release", frozenset({JobState.RUNNING}), JobState.RUNNING,
           frozenset({Party.WORKER})),
    Action("fail", frozenset({JobState.RUNNING}), JobState.FAILED, frozenset({Party.WORKER})),
    Action("cancel", frozenset({JobState.QUEUED, JobState.RUNNING}), JobState.CANCELLED,
           frozenset({Party.SUBMITTER, Party.ADMIN})),
)}


def apply(job: BulkJob, name: str, parties: frozenset[Party], now: datetime, *,
          lease_until: datetime | None = None, lease_owner: str | None = None,
          error: str | None = None) -> BulkJob:
    """The job after ``name``, or the refusal (state, party, guard) as a domain error."""
    action = leaving(ACTIONS, name, job.state)
    require_party(action, lambda party: party in parties)
    require_guards(action, Facts(job, now))
    changed = replace(job, state=action.target, version=job.version + 1)
    if name == "claim":
        changed.lease_until, changed.lease_owner = lease_until, lease_owner
        changed.started_at = job.started_at or now
    elif name == "release":  # the lease ends now: claimable again from the next instant
        changed.lease_until, changed.lease_owner = now, None
    else:
        changed.lease_until, changed.lease_owner = None, None
        changed.finished_at = now
        changed.error = error
    return changed
