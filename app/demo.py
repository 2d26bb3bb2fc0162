"""Demo data for newcomers: departments, one user of every role, and customers with
realistic Chinese company names, contacts and phone numbers (Faker zh_CN), the same for
the same seed. Everything goes through the use cases, so it is validated and audited
like any other write."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import phonenumbers
from faker import Faker
from stdnum.cn import uscc

from app.domain.access.roles import Role
from app.domain.common.errors import Duplicate
from app.domain.common.ids import new_id
from app.domain.common.paging import PageRequest, Sort
from app.domain.customers.errors import DuplicateCustomer
from app.domain.customers.model import ContactChannel, CustomerKind, Email, Phone, Stage
from app.domain.customers.needs import DEFAULT_NEEDS
from app.domain.feedback.model import FeedbackChannel, FeedbackType, Severity
from app.domain.plans.model import (
    BudgetLine,
    Constraints,
    Horizon,
    Milestone,
    MilestoneStatus,
    Objective,
    PlanState,
)
from app.domain.surveys.model import Automation, Question, QuestionKind
from app.domain.training.model import add_months
from app.services.auth import user_principal
from app.services.customers import ContactInput, CustomerInput, NewCustomer
from app.services.feedback import NewFeedback
from app.services.people import NewUser
from app.services.plans import NewPlan
from app.services.ports import RequestContext
from app.services.training import AttendeeInput, CourseInput

DEMO_PASSWORD = "accord-demo-2026"
DEPARTMENTS = ["华东大客户部", "华南渠道部", "北方政企部"]
PEOPLE = [
    ("admin", "系统管理员", Role.ADMIN, 0), ("exec.liu", "刘总", Role.EXECUTIVE, 0),
    ("finance.chen", "陈会计", Role.FINANCE, 0), ("audit.zhou", "周审计", Role.AUDITOR, 0),
    ("analyst.wu", "吴分析", Role.ANALYST, 0), ("pm.sun", "孙项目", Role.PROJECT_MANAGER, 0),
    ("tech.ma", "马工", Role.TECH_EXPERT, 0),
    ("head.east", "王主管", Role.DEPARTMENT_HEAD, 0),
    ("am.li", "李经理", Role.ACCOUNT_MANAGER, 0), ("am.zhang", "张经理", Role.ACCOUNT_MANAGER, 0),
    ("head.south", "黄主管", Role.DEPARTMENT_HEAD, 1),
    ("am.lin", "林经理", Role.ACCOUNT_MANAGER, 1),
    ("head.north", "赵主管", Role.DEPARTMENT_HEAD, 2),
    ("am.guo", "郭经理", Role.ACCOUNT_MANAGER, 2),
]
INDUSTRIES = ["制造业", "金融", "零售", "医疗健康", "教育", "物流", "能源", "通信设备", "软件服务"]
TAGS = ["战略客户", "重点跟进", "续约期", "新签", "大项目", "政府背景"]
SYSTEM = RequestContext(principal=None, request_id="demo")
FEEDBACK_SHARE = 0.2  # customers that get a feedback item
FEEDBACK = [
    (FeedbackType.COMPLAINT, "月结对账单连续两个月延迟，财务部门很不满意"),
    (FeedbackType.COMPLAINT, "系统升级后报表导出经常超时"),
    (FeedbackType.SUGGESTION, "希望增加微信端的进度查询"),
    (FeedbackType.QUESTION, "合同续签的流程和时间节点是什么？"),
    (FeedbackType.PRAISE, "项目经理响应及时，上线很顺利"),
]


@dataclass(frozen=True)
class DemoResult:
    users_created: int
    customers_created: int


def credit_code(rng: random.Random) -> str:
    """A valid 统一社会信用代码: registration authority 9 (industry and commerce), a
    company type, a region code, an organisation code, and the GB 32100-2015 check."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + rng.choice(["11", "31", "44", "32", "33", "51"]) + \
        f"{rng.randrange(10000):04d}" + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def phone(fake: Faker) -> str:
    while True:
        number = fake.phone_number()
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")):
            return number


async def load(services, customers: int, seed: int,  # type: ignore[no-untyped-def]
               progress: Callable[[int], None] = lambda _: None) -> DemoResult:
    """Idempotent for users (existing ones are kept); adds ``customers`` customers."""
    people = services.people
    departments = [(await people.ensure_department(SYSTEM, name)).id for name in DEPARTMENTS]
    users_created = 0
    managers: list[UUID] = []
    ids: dict[str, UUID] = {}
    admin = SYSTEM
    for username, display, role, dept in PEOPLE:
        try:
            user = await people.create_user(SYSTEM, NewUser(
                username=username, display_name=display,
                email=f"{username}@demo.accord.local", password=DEMO_PASSWORD,
                department_id=departments[dept], roles=frozenset({role})))
            users_created += 1
        except Duplicate:
            user = await people.user_by_username(username)
        ids[username] = user.id
        if role is Role.ACCOUNT_MANAGER:
            managers.append(user.id)
        if role is Role.ADMIN:
            admin = RequestContext(user_principal(user), "demo")
        progress(1)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    drafts = [(_customer(fake, rng, managers),
               _feedback(rng) if rng.random() < FEEDBACK_SHARE else None)
              for _ in range(customers)]
    made: list[UUID] = []
    for start in range(0, len(drafts), BATCH):
        batch = drafts[start:start + BATCH]
        made += await _customers(services, admin, batch)
        progress(len(batch))
    created = len(made)
    if created:
        await _survey_template(services, admin)
    for customer_id, state in zip(made, PLAN_STATES, strict=False):
        await _plan(services, admin, customer_id, state, rng)
    await _training(services, admin, ids)
    return DemoResult(users_created, created)


BATCH = 50  # customers per transaction: one commit for many, each by the create rules


async def _customers(services, admin: RequestContext,  # type: ignore[no-untyped-def]
                     batch: list[tuple[NewCustomer, Callable[[UUID], NewFeedback] | None]],
                     ) -> list[UUID]:
    """The batch's customers in one transaction, then their feedback. When the seed
    produced a number or code already present (a second run), the batch is created one
    by one instead and those customers are skipped."""
    customers = services.customers
    try:
        views = await customers.create_many(admin, [new for new, _ in batch])
        made = [(view.customer.id, feedback) for view, (_, feedback)
                in zip(views, batch, strict=True)]
    except DuplicateCustomer:
        made = []
        for new, feedback in batch:
            try:
                made.append(((await customers.create(admin, new)).customer.id, feedback))
            except DuplicateCustomer:
                continue
    for customer_id, feedback in made:
        if feedback is not None:
            await services.feedback.create(admin, feedback(customer_id))
    return [customer_id for customer_id, _ in made]


# One plan per customer for the first customers, so every state shows.
PLAN_STATES = [PlanState.ACTIVE, PlanState.DRAFT, PlanState.COMPLETED, PlanState.CANCELLED,
               PlanState.ACTIVE, PlanState.DRAFT]


async def _plan(services, admin: RequestContext, customer_id: UUID,  # type: ignore[no-untyped-def]
                state: PlanState, rng: random.Random) -> None:
    """A plan with two milestones (one a training), an objective and budget, taken to
    ``state`` through the use cases."""
    plans = services.plans
    start = date(2027, 1, 4) if state is not PlanState.COMPLETED else date(2026, 3, 2)
    view = await plans.create(admin, NewPlan(
        customer_id=customer_id, title=rng.choice(["数字化升级方案", "二期实施方案",
                                                   "年度服务保障方案"]),
        scope_statement="上线监管报表、移动审批，并完成关键用户培训",
        constraints=Constraints(time="季度末前上线", budget="预算不超过 60 万",
                                resources="两名实施顾问"),
        planned_start=start, planned_end=start + timedelta(days=150)))
    plan = view.plan
    for title, days in (("需求确认", 30), ("关键用户培训", 90)):
        view = await plans.add_part(admin, plan.id, view.plan.version, "milestone", Milestone(
            new_id(), title, start + timedelta(days=days)))
    view = await plans.add_part(admin, plan.id, view.plan.version, "budget_line", BudgetLine(
        new_id(), "实施人力", Decimal(rng.randrange(200, 500) * 1000)))
    view = await plans.add_part(admin, plan.id, view.plan.version, "objective", Objective(
        new_id(), "客户满意度提升", Horizon.LONG_TERM, "CSAT", Decimal("4.8"), "分",
        baseline=Decimal("4.3"), due_date=start + timedelta(days=180)))
    if state is PlanState.DRAFT:
        return
    if state is PlanState.CANCELLED:
        await plans.act(admin, plan.id, view.plan.version, "cancel", "客户预算调整，项目暂停")
        return
    view = await plans.act(admin, plan.id, view.plan.version, "activate")
    if state is PlanState.COMPLETED:
        for milestone in view.plan.milestones:
            view = await plans.update_part(admin, plan.id, view.plan.version, "milestone",
                                           milestone.id, {"status": MilestoneStatus.DONE,
                                                          "actual_date": milestone.planned_date})
        await plans.act(admin, plan.id, view.plan.version, "complete")


# (title, topic, validity in months, pass mark, [(months ago, [(username, score)])])
TRAINING = [
    ("变更管理流程培训", "change_management", 12, Decimal(80),
     [(2, [("head.east", Decimal(92)), ("am.li", Decimal(85)), ("am.zhang", Decimal(70))])]),
    ("客户移交规范", "handover", 24, None, [(3, [("head.south", None), ("head.north", None)])]),
    # Completed 13 months ago with a 12-month validity: am.lin's has lapsed.
    ("数据保护与个人信息安全", "data_protection", 12, None,
     [(13, [("am.lin", None)]), (1, [("am.guo", None)])]),
]


async def _training(services, admin: RequestContext,  # type: ignore[no-untyped-def]
                    ids: dict[str, UUID]) -> None:
    """A few courses and their sessions, once (skipped when any course exists); one
    completion has lapsed."""
    if (await services.training.list_courses(admin, PageRequest(Sort("title"), 1))).items:
        return
    today = services.clock.now().date()
    for title, topic, months, mark, sessions in TRAINING:
        course = await services.training.create_course(admin, CourseInput(
            title, topic, months, pass_mark=mark))
        for ago, attendees in sessions:
            await services.training.record_session(
                admin, course.id, add_months(today, -ago), ids["tech.ma"],
                [AttendeeInput(ids[name], True, score) for name, score in attendees])


async def _survey_template(services, admin: RequestContext) -> None:  # type: ignore[no-untyped-def]
    """A satisfaction survey, sent automatically after each closed change (once)."""
    current, version = await services.surveys.automation(admin)
    if current.change_request_closed_template_id is not None:
        return
    template = await services.surveys.create_template(admin, "变更完成回访", [
        Question("nps", QuestionKind.NPS, "您有多大可能向同事推荐我们？"),
        Question("csat", QuestionKind.CSAT, "您对本次变更的结果满意吗？"),
        Question("ces", QuestionKind.CES, "提出并完成这次变更有多容易？"),
        Question("comment", QuestionKind.TEXT, "还有什么建议？", required=False)])
    await services.surveys.set_automation(
        admin, Automation(change_request_closed_template_id=template.id), version)


def _feedback(rng: random.Random) -> Callable[[UUID], NewFeedback]:
    """Drawn with its customer (the same seed, the same data), made once it exists."""
    kind, summary = rng.choice(FEEDBACK)
    channel, severity = rng.choice(list(FeedbackChannel)), rng.choice(list(Severity))
    return lambda customer_id: NewFeedback(customer_id=customer_id, channel=channel,
                                           type=kind, severity=severity, summary=summary)


def _customer(fake: Faker, rng: random.Random, managers: list[UUID]) -> NewCustomer:
    company = rng.random() < 0.85
    contacts = [ContactInput(
        name=fake.name(), title=fake.job()[:100],
        phones=[Phone(phone(fake), verified=rng.random() < 0.6)],
        emails=[Email(fake.unique.free_email(), verified=rng.random() < 0.4)],
        preferred_channel=rng.choice(list(ContactChannel)), is_primary=i == 0)
        for i in range(rng.randint(1, 3))]
    fields = CustomerInput(
        name=fake.company() if company else fake.name(),
        kind=CustomerKind.COMPANY if company else CustomerKind.INDIVIDUAL,
        credit_code=credit_code(rng) if company else None,
        industry=rng.choice(INDUSTRIES), region=f"{fake.province()}{fake.city()}",
        address=fake.address()[:500], tags=rng.sample(TAGS, rng.randint(0, 2)),
        needs=rng.sample(sorted(DEFAULT_NEEDS), rng.randint(0, 3)),
        preferred_channel=rng.choice(list(ContactChannel)), preferred_time="工作日 14:00–17:00",
        annual_revenue=Decimal(rng.randrange(50_000, 8_000_000)).quantize(Decimal("1")),
        strategic_importance=rng.randint(1, 5), growth_potential=rng.randint(1, 5))
    stage = rng.choice([Stage.PROSPECT, Stage.ONBOARDING, Stage.ACTIVE, Stage.ACTIVE,
                        Stage.AT_RISK])
    return NewCustomer(fields=fields, contacts=contacts, owner_id=rng.choice(managers),
                       stage=stage)
