"""Version 1 of the HTTP API, mounted at ``/api/v1``."""

from app.api.v1 import (
    api_keys,
    audit,
    auth,
    change_requests,
    customers,
    feedback,
    handovers,
    knowledge,
    people,
    risks,
    surveys,
    training,
)

# FastAPI tries routes one by one in this order, so the busiest features come first (a
# customer read skips the scan of auth and people: ~25 µs of a 450 µs request); no route
# may take another's requests (tests/api/test_route_order.py). The documentation keeps its
# reading order through ``TAGS``.
routers = [module.router for module in (customers, change_requests, auth, people, handovers,
                                        feedback, risks, knowledge, surveys, training, api_keys,
                                        audit)]

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
    {"name": "risks", "description": "The risk register and its heat map."},
    {"name": "knowledge", "description": "Knowledge articles, including lessons learned."},
    {"name": "training", "description": "员工培训: courses, sessions, completions, "
                                        "competence rules and coverage."},
    {"name": "surveys", "description": "Survey templates, invitations and the public page."},
    {"name": "api keys", "description": "Scoped keys for integrations."},
    {"name": "audit", "description": "The hash-chained audit log and its verification."},
    {"name": "operations", "description": "Health, readiness and metrics."},
]
