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
}


def label(section: str, metric: str) -> tuple[str, str]:
    """(English, Chinese); a figure without wording shows its codes."""
    return LABELS.get((section, metric), (f"{section} {metric}", f"{section} {metric}"))
