"""The approval policy setting (变更审批): when finance and an executive must approve a
change, and how long a step may wait. Change requests read it to plan their chain."""

from __future__ import annotations

from app.domain.change_requests.approval_policy import ApprovalPolicy
from app.services.policies import PolicyKind, PolicySetting

APPROVAL_POLICY: PolicyKind[ApprovalPolicy] = PolicyKind(
    "approval_policy", ApprovalPolicy, ApprovalPolicy.from_dict, ApprovalPolicy.to_dict)


class ApprovalPolicyService(PolicySetting[ApprovalPolicy]):
    kind = APPROVAL_POLICY
