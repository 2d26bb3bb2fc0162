"""Roles (domain §1) and the scopes an integration's API key may hold."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # 系统管理员
    ACCOUNT_MANAGER = "account_manager"  # 客户经理
    DEPARTMENT_HEAD = "department_head"  # 部门主管
    FINANCE = "finance"  # 财务
    EXECUTIVE = "executive"  # 高层管理
    PROJECT_MANAGER = "project_manager"  # 项目经理
    TECH_EXPERT = "tech_expert"  # 技术专家
    ANALYST = "analyst"  # 分析员
    AUDITOR = "auditor"  # 审计


# Roles whose holders read records of every department (domain §1).
READ_ACROSS_DEPARTMENTS = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.ANALYST, Role.AUDITOR})
# Roles that read and never write (domain §1: "no writes").
READ_ONLY = frozenset({Role.ANALYST, Role.AUDITOR})


class Scope(StrEnum):
    """What an API key may do; extensible as features arrive."""

    USERS_READ = "users:read"
    DEPARTMENTS_READ = "departments:read"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    WEBHOOKS_MANAGE = "webhooks:manage"
    AUDIT_READ = "audit:read"
    JOBS_RUN = "jobs:run"  # schedulers that trigger periodic work (escalations, reminders)
