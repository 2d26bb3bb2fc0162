"""The shared shape of the management reports: a list of figures, each with its ``n``,
unit, interval where it estimates from a sample, and its wording in both languages."""

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from app.api.v1.schemas.base import Output


class ReportIntervalOut(Output):
    low: float
    high: float


class ReportLabelOut(Output):
    en: str
    zh_cn: str = Field(alias="zh-CN")


class ReportFigureOut(Output):
    section: str
    key: str = Field(description="The group within the section: a state, a role, a "
                                 "manager's id, a period; `all` for the whole")
    metric: str
    value: float | int | None = Field(description="null when there is nothing to measure "
                                                  "(n = 0), never a misleading 0")
    unit: str
    n: int | None = Field(description="What a rate, median or mean was taken over")
    interval: ReportIntervalOut | None = Field(
        description="95% interval, where the figure estimates from a sample (survey answers)")
    flag: str | None = None
    label: ReportLabelOut


class ManagementReportOut(Output):
    report: str
    as_of: datetime
    since: date | None
    until: date | None
    department_id: UUID | None
    reach: str = Field(description="The caller's record scope the figures are within: "
                                   "all, department or own")
    figures: list[ReportFigureOut]
