"""Version 1 of the HTTP API, mounted at ``/api/v1``."""

import re

from app.api.v1 import (
    api_keys,
    audit,
    auth,
    change_requests,
    customers,
    exports,
    feedback,
    handovers,
    imports,
    interactions,
    knowledge,
    notifications,
    people,
    plans,
    reports,
    risks,
    surveys,
    training,
    webhooks,
)

# FastAPI tries routes one by one in this order, so the busiest features come first (a
# customer read skips the scan of auth and people: ~25 µs of a 450 µs request); no route
# may take another's requests (tests/api/test_route_order.py). The documentation keeps its
# reading order through ``TAGS``.
routers = [module.router for module in (customers, change_requests, auth, people, handovers,
                                        feedback, plans, interactions, risks, knowledge, surveys,
                                        notifications, reports, training, api_keys, webhooks,
                                        audit, imports, exports)]
# multipart uploads, with their own size limit (ACCORD_MAX_UPLOAD_BYTES)
UPLOAD_PATHS = frozenset({"/api/v1/imports"})
# the HTML pages' form posts (the survey answer page), besides the sign-in form
FORM_PATHS = (re.compile(r"/api/v1/public/surveys/[^/]+"),)

TAGS = [
    {"name": "auth", "description": "Sign in, refresh and sign out (JWT); who am I."},
    {"name": "people", "description": "Departments, users and their roles."},
    {"name": "customers", "description": "客户档案: customers and contacts, classification, "
                                         "integrity, history, timeline, duplicates, erasure, "
                                         "health."},
    {"name": "change requests", "description": "变更管理: assessment, risk, approval chain, "
                                               "implementation, review."},
    {"name": "handovers", "description": "客户移交: handovers between account managers."},
    {"name": "feedback", "description": "反馈 · 满意度: feedback loop, SLA, satisfaction "
                                        "reports."},
    {"name": "plans", "description": "客户方案 · 预期管理: plans, objectives, milestones, "
                                     "budget, change-controlled baseline and revisions."},
    {"name": "interactions", "description": "沟通及时 · 回访: interactions with customers and "
                                            "the contact cadence per tier."},
    {"name": "reports", "description": "报表 · 数据分析: management reports — changes, "
                                       "customers, account managers, risks."},
    {"name": "risks", "description": "The risk register and its heat map."},
    {"name": "knowledge", "description": "Knowledge articles, including lessons learned."},
    {"name": "training", "description": "员工培训: courses, sessions, completions, "
                                        "competence rules and coverage."},
    {"name": "surveys", "description": "Survey templates, invitations and the public page."},
    {"name": "notifications", "description": "My notifications (what needs me, what was "
                                             "decided for me) and whether they also come by "
                                             "e-mail."},
    {"name": "imports", "description": "Bulk import of customers from CRM exports (Zoho, "
                                       "Fxiaoke, Salesforce)."},
    {"name": "exports", "description": "Bulk export of customers, change requests and "
                                       "feedback (CSV or JSON Lines)."},
    {"name": "api keys", "description": "Scoped keys for integrations."},
    {"name": "webhooks", "description": "Standard Webhooks: endpoints subscribed to events, "
                                        "secrets, the delivery log."},
    {"name": "audit", "description": "The hash-chained audit log and its verification."},
    {"name": "operations", "description": "Health, readiness and metrics."},
]
