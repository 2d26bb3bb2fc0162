"""Wording of errors in English and Simplified Chinese, chosen by Accept-Language.

Titles are fixed per code (the contract); details may carry the error's parameters.
"""

from __future__ import annotations

from typing import Any

EN, ZH = "en", "zh-CN"

# code -> (title, English detail, Chinese detail)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "not_found": ("Resource not found", "No {entity} with this id is visible to you.",
                  "找不到该{entity}，或您无权查看。"),
    "route_not_found": ("Route not found", "No endpoint at this path.", "该路径下没有接口。"),
    "api_version_unknown": ("API version unknown",
                            "This API version does not exist; the versions are: {versions}.",
                            "该 API 版本不存在；现有版本：{versions}。"),
    "method_not_allowed": ("Method not allowed", "This endpoint does not accept {method}.",
                           "该接口不支持 {method} 方法。"),
    "duplicate": ("Duplicate", "Another record already has this {field}: {value}.",
                  "已有记录使用了相同的{field}：{value}。"),
    "validation_failed": ("Request is not valid", "One or more fields are not valid.",
                          "一个或多个字段无效。"),
    "malformed_header": ("Malformed header",
                         "The {header} header must be 1 to {max_length} characters long.",
                         "请求头 {header} 的长度必须为 1 到 {max_length} 个字符。"),
    "malformed_request": ("Malformed request", "The request body could not be parsed: {reason}.",
                          "无法解析请求体：{reason}。"),
    "invalid_state": ("Action not allowed in this state",
                      "Not allowed: {state}.", "不允许此操作：{state}。"),
    "precondition_failed": ("Version is stale",
                            "The record has changed (version {current}); you sent version "
                            "{expected}. Read it again and retry.",
                            "记录已被修改（当前版本 {current}，您提交的是 {expected}），"
                            "请重新读取后再试。"),
    "precondition_required": ("If-Match required",
                              "Send the ETag you read in an If-Match header.",
                              "请在 If-Match 请求头中携带您读取到的 ETag。"),
    "not_authenticated": ("Not authenticated", "Sign in: send a bearer token or an API key.",
                          "请先登录：携带 Bearer 令牌或 API 密钥。"),
    "invalid_credentials": ("Invalid credentials", "Username or password is wrong.",
                            "用户名或密码错误。"),
    "invalid_token": ("Invalid token", "The token is invalid, expired or revoked.",
                      "令牌无效、已过期或已被撤销。"),
    "refresh_token_reused": ("Refresh token reused",
                             "This refresh token was already used; every session it belongs "
                             "to has been signed out.",
                             "该刷新令牌已被使用过，所属会话已全部注销。"),
    "forbidden": ("Forbidden", "Your roles do not allow this action ({required}).",
                  "您的角色无权执行此操作（{required}）。"),
    "too_many_login_attempts": ("Too many attempts",
                                "Too many failed sign-ins; retry in {retry_after_s} seconds.",
                                "登录失败次数过多，请在 {retry_after_s} 秒后重试。"),
    "invalid_cursor": ("Invalid cursor", "The cursor is not one this list issued.",
                       "分页游标无效。"),
    "unknown_query_parameter": ("Unknown query parameter",
                                "Unknown query parameter(s): {names}.",
                                "未知的查询参数：{names}。"),
    "idempotency_key_reused": ("Idempotency key reused",
                               "This Idempotency-Key was used with a different request.",
                               "该 Idempotency-Key 已用于另一个不同的请求。"),
    "idempotency_key_in_flight": ("Request in progress",
                                  "A request with this Idempotency-Key is still running.",
                                  "使用该 Idempotency-Key 的请求仍在处理中。"),
    "write_conflict": ("Conflicting write", "Another request changed this data at the same "
                       "time; read it again and retry.",
                       "其他请求同时修改了该数据，请重新读取后再试。"),
    "payload_too_large": ("Request body too large",
                          "The body exceeds the limit of {limit} bytes.",
                          "请求体超过 {limit} 字节的上限。"),
    "unsupported_media_type": ("Unsupported media type", "Send application/json.",
                               "请使用 application/json。"),
    "form_required": ("Form required",
                      "Sign in with a form: send username and password as "
                      "application/x-www-form-urlencoded (the OAuth2 password grant), not JSON.",
                      "请以表单方式登录：使用 application/x-www-form-urlencoded 提交 username 和 "
                      "password（OAuth2 密码模式），而非 JSON。"),
    "database_unavailable": ("Service unavailable", "The database is not reachable; retry "
                             "shortly.", "数据库暂时无法访问，请稍后重试。"),
    "duplicate_customer": ("Duplicate customer",
                           "Customer {existing_name} ({existing_id}) already has this {field}: "
                           "{value}. Open it, merge, or send force_reason to create anyway.",
                           "客户「{existing_name}」（{existing_id}）已使用相同的{field}：{value}。"
                           "请打开该客户或合并；如确需新建，请填写 force_reason 说明原因。"),
    "stage_transition_not_allowed": ("Stage change not allowed",
                                     "A customer cannot move from {current} to {target}; "
                                     "allowed: {allowed}.",
                                     "客户不能从 {current} 变为 {target}；允许的阶段：{allowed}。"),
    "customer_exists": ("Customer exists",
                        "This customer is already in Accord ({customer_id}); import it in "
                        "upsert or update mode to change it.",
                        "该客户已存在（{customer_id}）；"
                        "如需修改，请以 upsert 或 update 模式导入。"),
    "export_not_ready": ("Export not ready", "The export is {state}; fetch it once completed.",
                         "导出任务状态为 {state}，完成后才能下载。"),
    "export_expired": ("Export expired", "The export's file is no longer kept; export again.",
                       "导出文件已过期，请重新导出。"),
    "external_ref_taken": ("External reference taken",
                           "The {system} id {external_id} already belongs to another customer.",
                           "{system} 编号 {external_id} 已关联到其他客户。"),
    "owner_not_allowed": ("Owner not allowed",
                          "The owner must be an active account manager within your scope "
                          "({reason}).", "负责人必须是您权限范围内的在职客户经理（{reason}）。"),
    "risk_status_not_allowed": ("Risk status change not allowed",
                                "A risk cannot go from {current} to {target}; allowed: "
                                "{allowed}.",
                                "风险不能从 {current} 变为 {target}；允许：{allowed}。"),
    "transition_not_allowed": ("Action not allowed in this state",
                               "{action} is not possible in state {state}; "
                               "possible now: {allowed}.",
                               "当前状态为 {state}，不能执行 {action}；当前可执行：{allowed}。"),
    "action_not_permitted": ("Not your action", "Only {parties} may {action} this record.",
                             "只有 {parties} 可以对该记录执行 {action}。"),
    "precondition_unmet": ("Precondition not met", "{action} needs something first: "
                           "{reason}.", "执行 {action} 前需先满足条件：{reason}。"),
    "plan_baseline_frozen": ("Plan baseline is under change control",
                             "{field} is part of the active plan's baseline (revision "
                             "{revision}); change it through an amendment of an approved "
                             "change request.",
                             "{field} 属于执行中方案的基线（修订版 {revision}），须通过已批准"
                             "变更申请所附的方案修订来修改。"),
    "plan_closed": ("Plan is closed", "A {state} plan no longer changes.",
                    "方案已{state}，不能再修改。"),
    "plan_not_active": ("Plan is not active", "Only an active plan is amended; this one is "
                        "{state}.", "只有执行中的方案可以修订；该方案当前为 {state}。"),
    "plan_amendment_already_applied": ("Amendment already applied",
                                       "This amendment was applied as revision {revision}.",
                                       "该方案修订已应用为修订版 {revision}。"),
    "plan_amendment_not_approved": ("Change request not approved",
                                    "The amendment's change request is {state}; it is "
                                    "applied only once the request is approved.",
                                    "该修订所属的变更申请当前为 {state}，须批准后才能应用。"),
    "plan_amendment_form_closed": ("Change request form is closed",
                                   "An amendment is attached while the change request is in "
                                   "draft or returned; this one is {state}.",
                                   "仅能在变更申请为草稿或退回状态时附加方案修订；当前为 "
                                   "{state}。"),
    "plan_amendment_exists": ("Change request already carries an amendment",
                              "Change request {change_request_id} already carries a plan "
                              "amendment.", "变更申请 {change_request_id} 已附有方案修订。"),
    "plan_report_published": ("Progress report is published",
                              "A published progress report no longer changes.",
                              "进展报告已发布，不能再修改。"),
    "plan_report_link_unknown": ("Link not found",
                                 "This link is not valid, or has expired or been revoked.",
                                 "该链接无效、已过期或已被撤销。"),
    "self_approval_forbidden": ("Self-approval forbidden",
                                "You requested this change, so you cannot approve it.",
                                "您是该变更的申请人，不能审批自己的申请。"),
    "approver_already_decided": ("Approver already decided",
                                 "You already decided another step of this change; one person "
                                 "decides at most one step.",
                                 "您已审批过该变更的另一个环节，同一人最多审批一个环节。"),
    "training_required": ("Training required",
                          "{duty} needs the course “{course}”, completed and not lapsed.",
                          "执行 {duty} 需要完成课程“{course}”且仍在有效期内。"),
    "approver_role_mismatch": ("Approver role does not match",
                               "This step needs the {role} role.", "该环节需要 {role} 角色审批。"),
    "approver_department_mismatch": ("Approver department does not match",
                                     "Only a head of the customer's department (or their "
                                     "deputy) decides this step.",
                                     "该环节只能由客户所属部门的主管（或其代理人）审批。"),
    "approval_out_of_order": ("Approval step is not current",
                              "Step {position} cannot be decided before step {current}.",
                              "第 {position} 步不能在第 {current} 步之前审批。"),
    "step_already_decided": ("Step already decided", "Step {position} is already decided.",
                             "第 {position} 步已审批。"),
    "already_signed": ("Already given", "Not given again: {state}.",
                       "不能重复：{state}。"),
    "handover_already_open": ("Handover already open",
                              "This customer is already in handover {handover_id}; finish or "
                              "cancel it first.",
                              "该客户已在移交 {handover_id} 中，请先完成或取消该移交。"),
    "customer_owner_changed": ("Customer owner changed",
                               "The customer no longer belongs to the handing-over manager; "
                               "nothing was transferred. Cancel this handover and start anew.",
                               "客户已不属于移交人，未做任何转移。请取消本次移交后重新发起。"),
    "too_many_requests": ("Too many requests",
                          "Too many attempts from your address; retry in {retry_after_s} s.",
                          "您的地址请求过于频繁，请 {retry_after_s} 秒后重试。"),
    "rate_limited": ("Rate limit exceeded",
                     "You sent more than {limit} requests in {window_s} s; retry in "
                     "{retry_after_s} s.",
                     "您在 {window_s} 秒内的请求超过 {limit} 次，请 {retry_after_s} 秒后重试。"),
    "invalid_checkpoint": ("Invalid audit checkpoint",
                           "The checkpoint is malformed or not signed with this service's "
                           "checkpoint key ({reason}).",
                           "审计检查点格式错误或并非由本服务的检查点密钥签名（{reason}）。"),
    "survey_not_found": ("Survey not found", "This survey link is not valid.",
                         "该调查链接无效。"),
    "survey_closed": ("Survey closed", "This survey can no longer be answered.",
                      "该调查已关闭，无法再作答。"),
    "survey_already_answered": ("Survey already answered",
                                "This survey has already been answered; thank you.",
                                "该调查已提交过，感谢您的参与。"),
    "internal_error": ("Internal error", "Something went wrong on our side; the request id "
                       "identifies it.", "服务器内部错误，请凭请求编号联系管理员。"),
}

# Field-level reasons: pydantic error types and our own domain reasons.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("is required", "为必填项"),
    "duplicate_in_file": ("repeats the customer of line {line} of this file",
                          "与本文件第 {line} 行的客户重复"),
    "account_not_found": ("names no customer you may write", "找不到您可修改的对应客户"),
    "owner_login_unknown": ("names no active user (username or e-mail): {login}",
                            "找不到该在职用户（用户名或邮箱）：{login}"),
    "number_invalid": ("is not a number", "不是有效的数字"),
    "scale_invalid": ("must be a whole number from 1 to 5", "必须是 1 到 5 的整数"),
    "boolean_invalid": ("must be true or false", "必须是 是/否（true/false）"),
    "contact_name_missing": ("a contact needs a name", "联系人必须有姓名"),
    "id_invalid": ("is not an Accord id", "不是有效的 Accord 编号"),
    "preset_or_mapping": ("send a preset or an explicit column mapping",
                          "请提供预设（preset）或明确的列映射（mapping）"),
    "preset_unknown": ("must be one of: {values}", "必须是以下之一：{values}"),
    "mapping_target_unknown": ("maps to fields Accord does not have: {values}",
                               "映射到了不存在的字段：{values}"),
    "one_file_per_role": ("send one customer file and at most one contacts file",
                          "请上传一个客户文件，至多一个联系人文件"),
    "extra_forbidden": ("is not a field you can set", "不是可设置的字段"),
    "string_too_short": ("must have at least {min_length} characters",
                         "至少需要 {min_length} 个字符"),
    "string_too_long": ("must have at most {max_length} characters",
                        "最多 {max_length} 个字符"),
    "too_short": ("must have at least {min_length} items", "至少需要 {min_length} 项"),
    "too_long": ("must have at most {max_length} items", "最多 {max_length} 项"),
    "string_type": ("must be a string", "必须是字符串"),
    "int_parsing": ("must be an integer", "必须是整数"),
    "int_type": ("must be an integer", "必须是整数"),
    "bool_parsing": ("must be true or false", "必须是 true 或 false"),
    "bool_type": ("must be true or false", "必须是 true 或 false"),
    "uuid_parsing": ("must be a UUID", "必须是 UUID"),
    "uuid_type": ("must be a UUID", "必须是 UUID"),
    "enum": ("must be one of: {expected}", "必须是以下之一：{expected}"),
    "literal_error": ("must be one of: {expected}", "必须是以下之一：{expected}"),
    "greater_than_equal": ("must be ≥ {ge}", "必须 ≥ {ge}"),
    "less_than_equal": ("must be ≤ {le}", "必须 ≤ {le}"),
    "greater_than": ("must be > {gt}", "必须 > {gt}"),
    "less_than": ("must be < {lt}", "必须 < {lt}"),
    "value_error": ("is not valid: {error}", "无效：{error}"),
    "timezone_aware": ("must give a time zone (e.g. Z or +08:00)",
                       "须带时区（例如 Z 或 +08:00）"),
    "datetime_parsing": ("must be a date and time (ISO 8601)", "须为日期时间（ISO 8601）"),
    "datetime_from_date_parsing": ("must be a date and time (ISO 8601)",
                                   "须为日期时间（ISO 8601）"),
    "date_from_datetime_parsing": ("must be a date (YYYY-MM-DD)", "须为日期（YYYY-MM-DD）"),
    "date_parsing": ("must be a date (YYYY-MM-DD)", "须为日期（YYYY-MM-DD）"),
    "date_not_iso": ("must be written in ISO 8601 (e.g. 2026-03-01), not as a number",
                     "须使用 ISO 8601 格式（例如 2026-03-01），不能是数字"),
    "date_out_of_range": ("must have a year from {earliest} to {latest}",
                          "年份须在 {earliest} 到 {latest} 之间"),
    "string_pattern_mismatch": ("has an invalid format", "格式无效"),
    "string_nul": ("must not contain NUL characters", "不能包含 NUL 字符"),
    "json_invalid": ("is not valid JSON", "不是有效的 JSON"),
    "model_type": ("must be an object", "必须是对象"),
    "list_type": ("must be an array", "必须是数组"),
    "set_type": ("must be an array", "必须是数组"),
    "dict_type": ("must be an object", "必须是对象"),
    "username_format": ("must be 2–64 characters: lower-case letters, digits, '.', '_' or '-'",
                        "须为 2–64 个字符：小写字母、数字、'.'、'_' 或 '-'"),
    "password_too_short": ("must have at least {min_length} characters",
                           "至少需要 {min_length} 个字符"),
    "roles_empty": ("must name at least one role", "至少需要一个角色"),
    "department_unknown": ("is not an active department", "不是有效的部门"),
    "webhook_url_invalid": ("is not an http(s) URL with a host", "不是带主机名的 http(s) URL"),
    "webhook_url_too_long": ("is too long", "过长"),
    "webhook_url_credentials": ("must not carry a user name or password",
                                "不能包含用户名或密码"),
    "webhook_url_not_https": ("must use https in production", "生产环境必须使用 https"),
    "webhook_url_private_address": ("must not point to a loopback, link-local or private "
                                    "address", "不能指向环回、链路本地或私有地址"),
    "webhook_url_unresolvable": ("has a host name that does not resolve",
                                 "主机名无法解析"),
    "webhook_event_types_count": ("must name between 1 and {max} event types",
                                  "须包含 1 到 {max} 个事件类型"),
    "webhook_event_type_invalid": ("is not an event type (such as change_request.approved) "
                                   "or a prefix (such as change_request.*)",
                                   "不是事件类型（如 change_request.approved）或前缀（如 "
                                   "change_request.*）"),
    "email_invalid": ("is not a valid e-mail address", "不是有效的电子邮件地址"),
    "duplicate": ("is already taken", "已被占用"),
    "credit_code_checksum": ("has a wrong check character (GB 32100-2015)",
                             "校验位错误（GB 32100-2015）"),
    "credit_code_format": ("must be an 18-character unified social credit code",
                           "必须是 18 位统一社会信用代码"),
    "credit_code_companies_only": ("applies to companies only", "仅适用于企业客户"),
    "phone_invalid": ("is not a valid phone number", "不是有效的电话号码"),
    "need_unknown": ("names needs outside the vocabulary: {values}",
                     "包含不在需求词表中的项：{values}"),
    "one_primary_contact": ("may mark at most one contact as primary", "最多只能有一个主要联系人"),
    "stage_not_initial": ("cannot start as churned", "新客户不能以“已流失”阶段创建"),
    "external_ref_mismatch": ("differs from the reference in the path",
                              "与路径中的外部编号不一致"),
    "owner_moves_by_handover": ("the owner changes only through a handover",
                                "负责人只能通过客户移交变更"),
    "merge_into_itself": ("must be another customer", "必须是另一个客户"),
    "must_be_positive": ("must be greater than 0", "必须大于 0"),
    "owner_outside_scope": ("is not someone whose risks you may manage",
                            "不在您可管理的风险负责人范围内"),
    "owner_unknown": ("is not an active user", "不是在职用户"),
    "customer_unknown": ("is not a customer you can see", "不是您可见的客户"),
    "change_request_unknown": ("is not a change request you can see", "不是您可见的变更申请"),
    "handover_unknown": ("is not a handover of this customer", "不是该客户的移交"),
    "matrix_shape": ("must be 5 × 5 levels (low, medium, high, critical)",
                     "必须是 5 × 5 的等级（low、medium、high、critical）"),
    "matrix_not_monotone": ("is lower than cell {lower_than} (likelihood × impact), which "
                            "has lower or equal likelihood and impact",
                            "低于可能性与影响均不高于它的单元格 {lower_than}"),
    "scale_1_to_5": ("must be from 1 to 5", "必须在 1 到 5 之间"),
    "contact_unknown": ("is not a contact of this customer", "不是该客户的联系人"),
    "ends_before_start": ("must be after the start", "必须晚于开始时间"),
    "delegator_lacks_role": ("does not hold that role", "不具备该角色"),
    "deputy_lacks_role": ("must be another active user holding the same role",
                          "必须是具备相同角色的其他在职用户"),
    "day_end_after_start": ("must be after the start of the day", "必须晚于上班时间"),
    "weekdays_invalid": ("must list days 0 (Monday) to 6 (Sunday)",
                         "须为 0（周一）到 6（周日）之间的日期"),
    "timezone_unknown": ("is not a known time zone", "不是有效的时区"),
    "weights_sum_to_one": ("weights must be ≥ 0 and add up to 1", "权重须 ≥ 0 且总和为 1"),
    "receiving_manager_unknown": ("is not an active user", "不是在职用户"),
    "receiving_manager_not_account_manager": ("must hold the account_manager role",
                                              "必须具备客户经理角色"),
    "receiving_manager_other_department": ("must belong to the customer's department",
                                           "必须属于客户所在部门"),
    "receiving_manager_is_owner": ("must be someone other than the current owner",
                                   "不能是当前负责人"),
    "manager_unknown": ("is not an account manager", "不是客户经理"),
    "no_customers_to_hand_over": ("has no live customers to hand over", "名下没有可移交的客户"),
    "minutes_required": ("are required for a strict handover", "严格级移交必须填写会议纪要"),
    "only_for_customer_contact": ("is only given when the customer is notified",
                                  "仅在通知客户时填写"),
    "before_transfer": ("must not be before the transfer", "不能早于移交日期"),
    "every_tier_needs_a_level": ("must give a level for each tier A–D",
                                 "须为 A–D 每个等级指定移交级别"),
    "every_level_needs_days": ("must give days for strict, standard and light",
                               "须为 strict、standard、light 分别指定天数"),
    "out_of_range": ("is out of range", "超出允许范围"),
    "choices_need_two_options": ("must offer at least two distinct options",
                                 "至少需要两个不同的选项"),
    "options_only_for_choices": ("are only for choice questions", "仅选择题可设置选项"),
    "question_unknown": ("is not a question of this survey", "不是本调查的问题"),
    "answer_out_of_scale": ("must be a whole number from {low} to {high}",
                            "须为 {low} 到 {high} 之间的整数"),
    "choice_unknown": ("must be among the question's options", "须为该题的选项之一"),
    "text_answer_invalid": ("must be text of at most {max_length} characters",
                            "须为不超过 {max_length} 个字符的文本"),
    "survey_template_unknown": ("is not an active survey template", "不是有效的调查模板"),
    "thresholds_descending": ("thresholds must satisfy 100 ≥ A > B > C > 0",
                              "阈值须满足 100 ≥ A > B > C > 0"),
    "responses_exceed_invitations": ("cannot exceed the number of invitations",
                                     "不能多于邀请数"),
    "counts_exceed_n": ("the counts ({parts}) add up to more than n",
                        "各计数（{parts}）之和超过了总数 n"),
    "objective_unknown": ("is not an objective of this plan", "不是该方案的目标"),
    "review_needs_commitment": ("is recorded only for what was committed",
                                "仅对已承诺的预期进行评审"),
    "too_many_expectations": ("a plan holds at most {max} expectations",
                              "一个方案最多记录 {max} 条预期"),
    "every_tier_needs_days": ("must give working days for each tier A–D",
                              "须为 A–D 每个等级指定工作日数"),
    "amendment_empty": ("must change something", "须至少包含一项修改"),
    "milestone_unknown": ("is not a milestone of this plan", "不是该方案的里程碑"),
    "budget_line_unknown": ("is not a budget line of this plan", "不是该方案的预算项"),
    "negative": ("must not be negative", "不能为负数"),
    "before_start": ("must not be before the planned start", "不能早于计划开始日期"),
    "training_only": ("is only for deliverables of kind training", "仅适用于培训类交付物"),
    "change_request_other_customer": ("is a change request of another customer",
                                      "是其他客户的变更申请"),
    "user_unknown": ("is not an active user", "不是在职用户"),
    "plan_unknown": ("is not a plan of this customer", "不是该客户的方案"),
    "metrics_differ": ("must all be of the same metric (NPS, CSAT or CES)",
                       "须为同一指标（NPS、CSAT 或 CES）"),
    "article_unknown": ("is not a knowledge article", "不是知识库文章"),
    "course_unknown": ("is not a training course", "不是培训课程"),
    "score_without_attendance": ("is only given to someone who attended",
                                 "仅可为出席者填写成绩"),
}

ENTITY_NAMES_ZH = {"import_job": "导入任务", "export_job": "导出任务",
                   "user": "用户", "department": "部门", "api_key": "API 密钥",
                   "resource": "资源", "customer": "客户", "contact": "联系人", "risk": "风险",
                   "change_request": "变更申请", "approval_step": "审批环节", "task": "任务",
                   "delegation": "代理授权", "knowledge_article": "知识库文章",
                   "handover": "移交", "survey_template": "调查模板",
                   "survey_invitation": "调查邀请", "finding": "核对问题",
                   "checklist_item": "移交资料项", "feedback": "反馈",
                   "webhook_endpoint": "Webhook 端点", "webhook_delivery": "Webhook 投递",
                   "plan": "方案", "milestone": "里程碑", "objective": "目标",
                   "budget_line": "预算项", "amendment": "方案修订",
                   "plan_report": "进展报告", "expectation": "预期",
                   "training_course": "培训课程"}


def pick_language(accept_language: str | None) -> str:
    """Best of en / zh-CN by the header's q-values; English when nothing matches."""
    if not accept_language:
        return EN
    best, best_q = EN, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        lang = ZH if tag.startswith("zh") else EN if tag.startswith("en") or tag == "*" else None
        if lang and q > 0 and q > best_q:  # q=0 means "not acceptable" (RFC 9110)
            best, best_q = lang, q
    return best


class _Safe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# Why an action is refused in the record's current state (InvalidState's ``state``).
STATES: dict[str, tuple[str, str]] = {
    "active": ("it is already active", "记录已是启用状态"),
    "inactive": ("it is already inactive", "记录已是停用状态"),
    "archived": ("the customer is archived", "客户已归档"),
    "not_archived": ("the customer is not archived", "客户未归档"),
    "erased": ("the contact's personal data was erased", "联系人个人信息已删除"),
    "has_active_users": ("the department still has active users", "该部门仍有在职用户"),
    "merged": ("the customer was merged into another", "客户已合并到其他客户"),
    "needs_in_use": ("needs still used by customers cannot be removed: {needs}",
                     "仍被客户使用的需求不能删除：{needs}"),
    "revoked": ("it is already revoked", "已被撤销"),
    "webhook_disabled": ("the webhook endpoint is disabled; enable it first",
                         "该 Webhook 端点已停用，请先启用"),
    "not_editable": ("only a draft or returned change can be edited",
                     "只有草稿或退回的变更可以修改"),
    "not_assessing": ("the change is not being assessed", "变更不在评估中"),
    "already_assessed": ("you already assessed this round", "您已提交本轮评估"),
    "not_implementing": ("the change is not being implemented", "变更不在实施中"),
    "not_implemented": ("the change is not implemented yet", "变更尚未实施完成"),
    "self_lockout": ("you cannot remove your own administrator access",
                     "不能移除您自己的管理员权限"),
    "article_archived": ("the article is archived; restore it first",
                         "文章已归档，请先恢复"),
    "article_not_archived": ("the article is not archived", "文章未归档"),
    "answered": ("the survey has already been answered", "调查已作答"),
    "signature_given": ("you signed this handover as {signed_as}; it still waits for the "
                        "signature of: {waiting_for}, which only they can give",
                        "您已以 {signed_as} 身份签字；本移交仍待以下签字：{waiting_for}，"
                        "须由相应人员签署"),
    "item_verified": ("the {side} side already verified item {item}; if it no longer holds, "
                      "raise a finding on it",
                      "{side} 一方已核对资料 {item}；如有出入，请对其提出问题"),
}

FIELD_NAMES_ZH = {"phone": "电话", "email": "电子邮件", "credit_code": "统一社会信用代码",
                  "name": "名称", "username": "用户名"}


def _fill(template: str, params: dict[str, Any], lang: str) -> str:
    values = dict(params)
    if lang == ZH and "entity" in values:
        values["entity"] = ENTITY_NAMES_ZH.get(str(values["entity"]), values["entity"])
    if lang == ZH and "field" in values:
        values["field"] = FIELD_NAMES_ZH.get(str(values["field"]), values["field"])
    if "state" in values and str(values["state"]) in STATES:
        en, zh = STATES[str(values["state"])]
        values["state"] = (zh if lang == ZH else en).format_map(_Safe(values))
    if lang == EN and "entity" in values:
        values["entity"] = str(values["entity"]).replace("_", " ")
    return template.format_map(_Safe(values))


def title(code: str) -> str:
    return MESSAGES.get(code, MESSAGES["internal_error"])[0]


def detail(code: str, params: dict[str, Any], lang: str) -> str:
    _, en, zh = MESSAGES.get(code, MESSAGES["internal_error"])
    return _fill(zh if lang == ZH else en, params, lang)


def field_detail(reason: str, params: dict[str, Any] | None, lang: str,
                 fallback: str | None = None) -> str:
    pair = FIELD_MESSAGES.get(reason)
    if pair is None:
        return fallback or reason
    return _fill(pair[1] if lang == ZH else pair[0], params or {}, lang)
