"""Lifecycle stages as data (domain §2): prospect → onboarding → active ↔ at_risk →
churned, and churned → active when won back. Churning needs a reason from the list."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.common.errors import DomainError, ErrorKind, FieldError, InvalidInput
from app.domain.customers.model import ChurnReason, Stage


@dataclass(frozen=True)
class StageTransition:
    source: Stage
    target: Stage
    action: str  # what a person would say, also the event name suffix


TRANSITIONS: tuple[StageTransition, ...] = (
    StageTransition(Stage.PROSPECT, Stage.ONBOARDING, "onboard"),
    StageTransition(Stage.ONBOARDING, Stage.ACTIVE, "activate"),
    StageTransition(Stage.ACTIVE, Stage.AT_RISK, "flag_at_risk"),
    StageTransition(Stage.AT_RISK, Stage.ACTIVE, "recover"),
    StageTransition(Stage.AT_RISK, Stage.CHURNED, "churn"),
    StageTransition(Stage.CHURNED, Stage.ACTIVE, "win_back"),
)


class StageTransitionRefused(DomainError):
    code = "stage_transition_not_allowed"
    kind = ErrorKind.CONFLICT


def allowed_targets(current: Stage) -> list[Stage]:
    return [t.target for t in TRANSITIONS if t.source is current]


def transition(current: Stage, target: Stage, churn_reason: ChurnReason | None,
               churn_note: str | None) -> StageTransition:
    """The transition to take, or a refusal naming the stages that are allowed."""
    for candidate in TRANSITIONS:
        if candidate.source is current and candidate.target is target:
            break
    else:
        raise StageTransitionRefused(
            current=current, target=target,
            allowed=", ".join(allowed_targets(current)) or "none")
    if target is Stage.CHURNED:
        missing = []
        if churn_reason is None:
            missing.append(FieldError("/churn_reason", "missing"))
        if not (churn_note or "").strip():
            missing.append(FieldError("/churn_note", "missing"))
        if missing:
            raise InvalidInput(missing)
    return candidate
