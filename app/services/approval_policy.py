"""The approval policy setting (变更审批): when finance and an executive must approve a
change, and how long a step may wait. Change requests read it to plan their chain."""

from __future__ import annotations

from app.domain.change_requests.approval_policy import ApprovalPolicy
from app.services.policies import PolicySetting, stored_as

APPROVAL_POLICY = stored_as("approval_policy", ApprovalPolicy)


class ApprovalPolicyService(PolicySetting[ApprovalPolicy]):
    kind = APPROVAL_POLICY
