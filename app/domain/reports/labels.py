"""The wording of report figures in English and Chinese, by section and metric: the JSON
carries both, the CSV both columns, so a spreadsheet reads in either language."""

from __future__ import annotations

LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("total", "count"): ("Total", "总数"),
    ("by_state", "count"): ("By state", "按状态"),
    ("by_type", "count"): ("By type", "按类型"),
    ("by_category", "count"): ("By category", "按类别"),
    ("by_risk_level", "count"): ("By risk level", "按风险等级"),
    ("emergency", "share"): ("Emergency share", "紧急变更占比"),
    ("approval_lead_time", "median"): ("Approval lead time, median (working hours)",
                                       "审批时长中位数（工作小时）"),
    ("approval_lead_time", "p90"): ("Approval lead time, 90th percentile (working hours)",
                                    "审批时长90分位（工作小时）"),
    ("approval_rounds", "rejection_rate"): ("Rejection rate of approval rounds",
                                            "审批驳回率"),
    ("approval_rounds", "return_rate"): ("Return rate of approval rounds", "审批退回率"),
    ("implementation", "on_time_rate"): ("Implemented by the requested date",
                                         "按期实施率"),
    ("estimate_accuracy", "median_ratio"): ("Actual ÷ estimated, median",
                                            "实际与估算之比（中位数）"),
    ("overdue_steps_now", "count"): ("Approval steps overdue now", "当前逾期审批步骤"),
    ("by_tier", "count"): ("Customers by tier", "按客户等级"),
    ("by_stage", "count"): ("Customers by stage", "按客户阶段"),
    ("by_department", "count"): ("Customers by department", "按部门"),
    ("integrity_bands", "count"): ("Customers by integrity score", "按档案完整度"),
    ("integrity", "median"): ("Integrity score, median", "档案完整度中位数"),
    ("health_bands", "count"): ("Customers by health score", "按健康度"),
    ("health", "median"): ("Health score, median", "健康度中位数"),
    ("health", "mean"): ("Health score, mean", "平均健康度"),
    ("health", "below_threshold"): ("Below the health threshold", "健康度低于阈值"),
    ("new", "count"): ("New customers", "新增客户"),
    ("churned", "count"): ("Churned customers (month/reason)", "流失客户（月份/原因）"),
    ("customers", "count"): ("Customers owned", "负责客户数"),
    ("customers_by_tier", "count"): ("Customers owned by tier", "按等级的负责客户数"),
    ("feedback_sla", "acknowledge_compliance"): ("Feedback acknowledged within SLA",
                                                 "反馈按时确认率"),
    ("feedback_sla", "resolve_compliance"): ("Feedback resolved within SLA", "反馈按时解决率"),
    ("changes", "count"): ("Change requests", "变更申请数"),
    ("changes", "implemented"): ("Change requests implemented", "已实施变更"),
    ("changes", "rejection_rate"): ("Change requests rejected", "变更驳回率"),
    ("changes", "cancelled"): ("Change requests cancelled", "已取消变更"),
    ("satisfaction", "csat"): ("CSAT (share satisfied)", "客户满意度（CSAT）"),
    ("satisfaction", "nps"): ("NPS", "净推荐值（NPS）"),
    ("satisfaction", "csat_shrunk"): ("CSAT shrunk toward the overall mean",
                                      "CSAT（向总体均值收缩）"),
    ("satisfaction", "nps_shrunk"): ("NPS shrunk toward the overall mean",
                                     "NPS（向总体均值收缩）"),
    ("handovers", "in"): ("Customers handed over to", "移交转入"),
    ("handovers", "out"): ("Customers handed over from", "移交转出"),
}


def label(section: str, metric: str) -> tuple[str, str]:
    """(English, Chinese); a figure without wording shows its codes."""
    return LABELS.get((section, metric), (f"{section} {metric}", f"{section} {metric}"))
