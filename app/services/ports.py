"""Ports: what the use cases need from the outside world, declared on the core side.

Adapters (``app.repositories`` for storage, ``app.adapters`` for crypto and time) implement
them; ``app.main`` wires one implementation to each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.credentials import ApiKey, RefreshToken
from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.scope import RecordScope
from app.domain.access.users import Department, User
from app.domain.audit.chain import AuditRecord
from app.domain.change_requests.approval_policy import Delegation
from app.domain.change_requests.model import ApprovalStep, AssessmentEntry, ChangeRequest, Task
from app.domain.common.events import DomainEvent
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.history import FieldChange
from app.domain.customers.model import Contact, Customer
from app.domain.feedback.model import FeedbackItem
from app.domain.handovers.access import HandoverReach
from app.domain.handovers.model import (
    ChecklistItem,
    Finding,
    Handover,
    HandoverState,
    Notification,
    Signature,
)
from app.domain.knowledge.model import Article, ArticleKind
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import Risk, RiskStatus
from app.domain.surveys.model import Invitation, Template


@dataclass(frozen=True)
class RequestContext:
    """Who acts and through which request; the unit of work stamps it on audit entries."""

    principal: Principal | None
    request_id: str | None = None
    client_addr: str | None = None

    @property
    def actor(self) -> Principal:
        """The caller of a use case that needs one (its route declared who may call)."""
        assert self.principal is not None
        return self.principal


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SurveyMessage:
    """A survey invitation to deliver: to whom, and the link that answers it."""

    invitation_id: UUID
    customer_id: UUID
    contact_id: UUID
    survey_name: str
    link: str
    expires_at: datetime


class InvitationSender(Protocol):
    """Delivers survey invitations (e-mail, SMS, WeChat): outside the transaction, after
    the invitation is stored."""

    async def send(self, message: SurveyMessage) -> None: ...


class PasswordHasher(Protocol):
    """Deliberately slow (Argon2id): implementations run off the event loop."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, password_hash: str) -> bool: ...


@dataclass(frozen=True)
class AccessClaims:
    subject: UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


class TokenCodec(Protocol):
    def issue_access(self, subject: UUID, now: datetime) -> tuple[str, datetime]: ...
    def read_access(self, token: str) -> AccessClaims: ...


@dataclass(frozen=True)
class UserFilter:
    department_id: UUID | None = None
    role: str | None = None
    active: bool | None = None


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def email_taken(self, email: str, *, other_than: UUID | None = None) -> bool: ...
    async def save(self, user: User) -> None: ...
    async def any_active_in(self, department_id: UUID) -> bool: ...
    async def list(self, scope: RecordScope, filters: UserFilter,
                   page: PageRequest) -> Page[User]: ...


class DepartmentRepository(Protocol):
    async def add(self, department: Department) -> None: ...
    async def get(self, department_id: UUID, *, for_update: bool = False) -> Department | None: ...
    async def name_taken(self, name: str, *, other_than: UUID | None = None) -> bool: ...
    async def get_by_name(self, name: str) -> Department | None: ...
    async def save(self, department: Department) -> None: ...
    async def list(self, active: bool | None, page: PageRequest) -> Page[Department]: ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...
    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...
    async def mark_rotated(self, token_id: UUID, now: datetime) -> bool:
        """Set ``rotated_at`` unless already set; False means another request won."""
        ...
    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...
    async def revoke_all_of_user(self, user_id: UUID, now: datetime) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: UUID, *, for_update: bool = False) -> ApiKey | None: ...
    async def get_by_prefix(self, prefix: str) -> ApiKey | None: ...
    async def save(self, key: ApiKey) -> None: ...
    async def list(self, page: PageRequest) -> Page[ApiKey]: ...


@dataclass(frozen=True)
class FailureCount:
    count: int
    oldest: datetime | None


class LoginThrottle(Protocol):
    async def failures_since(self, key: str, since: datetime) -> FailureCount: ...
    async def record_failure(self, key: str, now: datetime) -> None: ...
    async def clear(self, key: str) -> None: ...


class AuditLogReader(Protocol):
    def entries(self, batch_size: int = 1000) -> AsyncIterator[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def list(self, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]: ...


@dataclass(frozen=True)
class CustomerFilter:
    owner_id: UUID | None = None
    department_id: UUID | None = None
    tier: str | None = None
    stage: str | None = None
    tag: str | None = None
    updated_since: datetime | None = None
    integrity_below: int | None = None
    q: str | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class DuplicateHit:
    """An existing customer that already holds a credit code, phone or e-mail."""

    customer_id: UUID
    customer_name: str
    kind: str  # "credit_code" | "phone" | "email"
    value: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    contact_id: UUID | None
    occurred_at: datetime
    actor_id: str | None
    action: str
    field: str
    old: Any
    new: Any
    request_id: str | None
    redacted: bool


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    occurred_at: datetime
    type: str
    entity_type: str
    entity_id: str
    actor_id: str | None
    data: dict[str, Any]


class CustomerRepository(Protocol):
    """Reads take the caller's record scope: a customer outside it is simply not found."""

    async def add(self, customer: Customer) -> None: ...
    async def save(self, customer: Customer) -> None: ...
    async def get(self, customer_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Customer | None: ...
    async def list(self, scope: RecordScope, filters: CustomerFilter,
                   page: PageRequest) -> Page[Customer]: ...
    async def credit_code_holder(self, credit_code: str,
                                 other_than: UUID | None) -> DuplicateHit | None: ...
    async def contact_point_holders(self, points: list[tuple[str, str]],
                                    other_than: UUID | None) -> list[DuplicateHit]: ...
    async def external_ref_holder(self, system: str, external_id: str) -> UUID | None: ...
    async def add_contact(self, contact: Contact) -> None: ...
    async def save_contact(self, contact: Contact) -> None: ...
    async def move_contacts(self, source_id: UUID, target_id: UUID) -> None: ...
    async def add_history(self, customer_id: UUID, changes: list[FieldChange], *, action: str,
                          actor_id: str | None, request_id: str | None, now: datetime,
                          contact_id: UUID | None = None) -> None: ...
    async def copy_history(self, source_id: UUID, target_id: UUID) -> None: ...
    async def redact_contact_history(self, contact_id: UUID) -> None: ...
    async def history(self, customer_id: UUID, page: PageRequest) -> Page[HistoryEntry]: ...
    async def timeline(self, customer_id: UUID, page: PageRequest) -> Page[TimelineEntry]: ...
    async def all_ids(self, after: UUID | None, limit: int) -> list[UUID]: ...
    async def needs_in_use(self, needs: list[str]) -> list[str]: ...


class PolicyRepository(Protocol):
    """Administrator policies, stored as versioned JSON values by name."""

    async def get(self, name: str) -> tuple[dict[str, Any], int] | None: ...
    async def put(self, name: str, value: dict[str, Any], version: int, now: datetime,
                  actor_id: str | None) -> None: ...


@dataclass(frozen=True)
class RiskFilter:
    status: RiskStatus | None = None
    level: RiskLevel | None = None
    owner_id: UUID | None = None
    customer_id: UUID | None = None
    department_id: UUID | None = None
    open_only: bool = False
    review_due_by: date | None = None


class RiskRepository(Protocol):
    async def add(self, risk: Risk) -> None: ...
    async def save(self, risk: Risk) -> None: ...
    async def get(self, risk_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Risk | None: ...
    async def list(self, scope: RecordScope, filters: RiskFilter,
                   page: PageRequest) -> Page[Risk]: ...
    async def heatmap(self, scope: RecordScope,
                      filters: RiskFilter) -> dict[tuple[int, int], int]: ...
    async def ratings(self) -> list[tuple[UUID, int, int, RiskLevel]]: ...
    async def set_level(self, risk_id: UUID, level: RiskLevel) -> None: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Open risks of a customer that its old owner owned pass to the new one."""
        ...


@dataclass(frozen=True)
class ChangeRequestFilter:
    state: str | None = None
    type: str | None = None
    customer_id: UUID | None = None
    requester_id: UUID | None = None
    department_id: UUID | None = None
    overdue_at: datetime | None = None  # only those with a pending step due before this
    awaiting_role: str | None = None  # only those whose pending step needs this role


class ChangeRequestRepository(Protocol):
    """Reads take a record scope; a change outside it is not found."""

    async def add(self, cr: ChangeRequest) -> None: ...
    async def save(self, cr: ChangeRequest) -> None: ...
    async def get(self, cr_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> ChangeRequest | None: ...
    async def list(self, scope: RecordScope, filters: ChangeRequestFilter,
                   page: PageRequest) -> Page[ChangeRequest]: ...
    async def add_assessment(self, cr_id: UUID, entry: AssessmentEntry) -> None: ...
    async def add_customer_input(self, cr_id: UUID, round_: int, contact_id: UUID,
                                 opinion: str, recorded_by: UUID, input_id: UUID,
                                 now: datetime) -> None: ...
    async def customer_inputs(self, cr_id: UUID) -> list[dict[str, Any]]: ...
    async def replace_steps(self, cr_id: UUID, round_: int,
                            steps: list[ApprovalStep]) -> None: ...
    async def save_step(self, step: ApprovalStep) -> None: ...
    async def overdue_steps(self, now: datetime,
                            limit: int) -> list[tuple[UUID, ApprovalStep]]: ...
    async def add_task(self, cr_id: UUID, task: Task) -> None: ...
    async def save_task(self, task: Task) -> None: ...
    async def add_progress(self, cr_id: UUID, values: dict[str, Any]) -> None: ...
    async def progress(self, cr_id: UUID) -> list[dict[str, Any]]: ...
    async def add_communication(self, cr_id: UUID, values: dict[str, Any]) -> None: ...
    async def communications(self, cr_id: UUID) -> list[dict[str, Any]]: ...
    async def active_delegations(self, role: Role, next_role: Role | None,
                                 now: datetime) -> list[Delegation]: ...
    async def add_delegation(self, values: dict[str, Any]) -> None: ...
    async def delegation(self, delegation_id: UUID) -> dict[str, Any] | None: ...
    async def revoke_delegation(self, delegation_id: UUID, now: datetime) -> None: ...
    async def delegations_of(self, user_id: UUID | None) -> list[dict[str, Any]]: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Open changes of a customer follow it to its new owner (and, where the old owner
        requested them, so does the requester role); returns what moved."""
        ...
    async def reassign_open_tasks(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                                  now: datetime) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class KnowledgeFilter:
    q: str | None = None  # any substring (two characters or more) of title, body or tags
    kind: ArticleKind | None = None
    tag: str | None = None
    change_request_id: UUID | None = None
    customer_id: UUID | None = None
    include_archived: bool = False


class KnowledgeRepository(Protocol):
    """Reads take a record scope; an article outside it is not found."""

    async def add(self, article: Article) -> None: ...
    async def save(self, article: Article) -> None: ...
    async def get(self, article_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Article | None: ...
    async def list(self, scope: RecordScope, filters: KnowledgeFilter,
                   page: PageRequest) -> Page[Article]: ...


@dataclass(frozen=True)
class HandoverFilter:
    state: HandoverState | None = None
    open_only: bool = False
    customer_id: UUID | None = None
    batch_id: UUID | None = None
    manager_id: UUID | None = None  # handing over or receiving
    department_id: UUID | None = None
    follow_up_overdue_on: date | None = None  # transferred, follow-up due before this day


@dataclass(frozen=True)
class CustomerWork:
    """What is open on a customer, as a handover sees it (checklist, risk, transfer)."""

    owner_since: datetime
    open_change_requests: list[dict[str, Any]]
    open_tasks: list[dict[str, Any]]
    open_risks: list[dict[str, Any]]
    closed_change_requests: int
    latest_satisfaction: int | None
    open_complaints: int


@dataclass(frozen=True)
class HandoverFacts:
    """One handover's figures for the report: durations, findings, follow-up."""

    department_id: UUID
    state: str
    level: str
    created_at: datetime
    transferred_at: datetime | None
    follow_up_due: date | None
    followed_up_at: datetime | None
    findings: int


class HandoverRepository(Protocol):
    async def add_batch(self, values: dict[str, Any]) -> None: ...
    async def add(self, handover: Handover) -> None: ...
    async def save(self, handover: Handover) -> None: ...
    async def get(self, handover_id: UUID, reach: HandoverReach, *,
                  for_update: bool = False) -> Handover | None: ...
    async def list(self, reach: HandoverReach, filters: HandoverFilter,
                   page: PageRequest) -> Page[Handover]: ...
    async def open_for_customer(self, customer_id: UUID) -> UUID | None: ...
    async def receiving(self, customer_id: UUID, user_id: UUID) -> bool:
        """Whether ``user_id`` is receiving this customer in a handover still open."""
        ...
    async def save_item(self, handover_id: UUID, item: ChecklistItem) -> None: ...
    async def add_finding(self, handover_id: UUID, finding: Finding) -> None: ...
    async def save_finding(self, finding: Finding) -> None: ...
    async def add_signature(self, handover_id: UUID, signature: Signature) -> None: ...
    async def add_notification(self, handover_id: UUID, notification: Notification) -> None: ...
    async def customer_work(self, customer_id: UUID, owner_id: UUID) -> CustomerWork: ...
    async def overdue_follow_ups(self, today: date, limit: int) -> list[Handover]: ...
    async def report_facts(self, reach: HandoverReach, since: datetime | None,
                           until: datetime | None,
                           department_id: UUID | None) -> list[HandoverFacts]: ...


@dataclass(frozen=True)
class ScoreRow:
    """One scored survey answer with the segment it counts in."""

    kind: str
    value: int
    submitted_at: datetime
    department_id: UUID
    owner_id: UUID
    tier: str
    template_id: UUID


class SurveyRepository(Protocol):
    async def add_template(self, template: Template) -> None: ...
    async def save_template(self, template: Template) -> None: ...
    async def get_template(self, template_id: UUID) -> Template | None: ...
    async def list_templates(self, include_archived: bool,
                             page: PageRequest) -> Page[Template]: ...
    async def add_invitation(self, invitation: Invitation) -> None: ...
    async def save_invitation(self, invitation: Invitation) -> None: ...
    async def get_invitation(self, invitation_id: UUID, scope: RecordScope, *,
                             for_update: bool = False) -> Invitation | None: ...
    async def invitation_by_token(self, token_hash: str, *,
                                  for_update: bool = False) -> Invitation | None: ...
    async def list_invitations(self, scope: RecordScope, template_id: UUID | None,
                               customer_id: UUID | None,
                               page: PageRequest) -> Page[Invitation]: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Invitations still open (not answered, revoked or expired) follow the customer."""
        ...
    async def add_response(self, response: dict[str, Any],
                           scores: list[dict[str, Any]]) -> None: ...
    async def closed_changes_to_survey(self, limit: int) -> list[tuple[UUID, UUID]]:
        """(change request, customer) of closed changes with no invitation yet."""
        ...
    async def handover_pulses_due(self, today: date,
                                  limit: int) -> list[tuple[UUID, UUID]]:
        """(handover, customer) whose satisfaction pulse is due with no invitation yet."""
        ...
    async def scores(self, scope: RecordScope, since: datetime | None, until: datetime | None,
                     department_id: UUID | None,
                     template_id: UUID | None) -> list[ScoreRow]: ...
    async def customer_scores(self, customer_id: UUID, since: datetime) -> list[ScoreRow]: ...
    async def invitation_counts(self, scope: RecordScope, since: datetime | None,
                                until: datetime | None, department_id: UUID | None,
                                template_id: UUID | None) -> tuple[int, int]:
        """(invitations sent, invitations answered) in the period."""
        ...


@dataclass
class FeedbackRecord:
    """A feedback item as stored: the loop's values plus its SLA due times (fixed when the
    clock starts, so a later policy change does not move a promise already made), when a
    breach was announced, and the bookkeeping."""

    item: FeedbackItem
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    version: int
    acknowledge_breached_at: datetime | None = None
    resolve_breached_at: datetime | None = None


@dataclass(frozen=True)
class FeedbackFilter:
    state: str | None = None
    type: str | None = None
    severity: str | None = None
    customer_id: UUID | None = None
    owner_id: UUID | None = None
    department_id: UUID | None = None
    change_request_id: UUID | None = None
    handover_id: UUID | None = None
    open_only: bool = False
    breached_at: datetime | None = None  # only items past a due time at this instant


@dataclass(frozen=True)
class CustomerSignals:
    """What customer health reads besides survey scores."""

    open_complaints: int
    sla_breaches: int  # items whose acknowledge or resolve clock ran out, in the period
    last_contact: datetime | None
    open_high_risks: int


class FeedbackRepository(Protocol):
    async def add(self, record: FeedbackRecord) -> None: ...
    async def save(self, record: FeedbackRecord) -> None: ...
    async def get(self, feedback_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> FeedbackRecord | None: ...
    async def list(self, scope: RecordScope, filters: FeedbackFilter,
                   page: PageRequest) -> Page[FeedbackRecord]: ...
    async def breaches_to_announce(self, now: datetime,
                                   limit: int) -> list[FeedbackRecord]: ...
    async def open_of_customer(self, customer_id: UUID) -> list[FeedbackRecord]: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]: ...
    async def in_period(self, scope: RecordScope, since: datetime | None,
                        until: datetime | None,
                        department_id: UUID | None) -> list[FeedbackRecord]: ...
    async def signals(self, customer_id: UUID, since: datetime) -> CustomerSignals: ...
    async def customers_to_check(self, after: UUID | None, limit: int) -> list[UUID]: ...
    async def last_health(self, customer_id: UUID) -> bool | None:
        """Whether the customer was below the threshold at the last check (None: never
        checked)."""
        ...
    async def store_health(self, customer_id: UUID, score: float, below: bool,
                           now: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving without ``commit()`` rolls everything back."""

    users: UserRepository
    departments: DepartmentRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    login_throttle: LoginThrottle
    audit_log: AuditLogReader
    customers: CustomerRepository
    policies: PolicyRepository
    risks: RiskRepository
    change_requests: ChangeRequestRepository
    knowledge: KnowledgeRepository
    handovers: HandoverRepository
    surveys: SurveyRepository
    feedback: FeedbackRepository

    def record_change(self, action: str, entity_type: str, entity_id: UUID | str | None, *,
                      before: Mapping[str, Any] | None = None,
                      after: Mapping[str, Any] | None = None,
                      event: Mapping[str, Any] | None = None, at: datetime | None = None,
                      customer_id: UUID | None = None, actor: Principal | None = None) -> None:
        """The way to record a change: its audit entry (``before`` → ``after``) and, with
        ``event`` data, the domain event ``action`` occurred ``at`` (now by default), on
        ``customer_id``'s timeline when given. Data becomes JSON by one rule
        (``app.domain.common.recorded.json_value``: None stays null)."""
        ...
    # The parts of record_change, by the same rule: an audit entry alone, an event alone.
    def record(self, action: str, entity_type: str, entity_id: UUID | str | None, *,
               before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
               actor: Principal | None = None) -> None: ...
    def emit(self, event: DomainEvent) -> None: ...
    async def commit(self) -> None: ...
    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: RequestContext, *, write: bool = True) -> UnitOfWork: ...


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reservation:
    """Outcome of claiming an idempotency key: new (run the handler) or a stored reply."""

    new: bool
    replay: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def reserve(self, caller: str, key: str, fingerprint: str, now: datetime) -> Reservation:
        """Claim the key, or raise IdempotencyKeyReused / IdempotencyKeyInFlight."""
        ...
    async def complete(self, caller: str, key: str, response: StoredResponse) -> None: ...
    async def release(self, caller: str, key: str) -> None: ...
