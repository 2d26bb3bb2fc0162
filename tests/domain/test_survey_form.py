"""A browser form's string fields read as the typed answers the survey rules judge: scales
as integers, several ticked options as a list, blanks as unanswered; what does not read
(a scale answered with text) is left for ``check_answers`` to refuse with its pointer."""

from __future__ import annotations

import pytest

from app.domain.common.errors import InvalidInput
from app.domain.surveys.model import Question, QuestionKind, answers_from_form, check_answers

QUESTIONS = [Question("nps", QuestionKind.NPS, "推荐？"),
             Question("channel", QuestionKind.SINGLE_CHOICE, "渠道", ("电话", "邮件")),
             Question("topics", QuestionKind.MULTIPLE_CHOICE, "改进", ("速度", "报价")),
             Question("comment", QuestionKind.TEXT, "建议", required=False)]


def test_form_fields_become_typed_answers() -> None:
    answers = answers_from_form(QUESTIONS, {
        "nps": ["10"], "channel": ["邮件"], "topics": ["速度", "报价"], "comment": ["  "],
        "unrelated": ["x"]})
    assert answers == {"nps": 10, "channel": "邮件", "topics": ["速度", "报价"]}
    assert [s.value for s in check_answers(QUESTIONS, answers)] == [10]


def test_what_does_not_read_is_refused_by_the_survey_rules() -> None:
    answers = answers_from_form(QUESTIONS, {"nps": ["ten"], "channel": ["邮件"],
                                            "topics": ["速度"], "comment": ["好"]})
    assert answers["nps"] == "ten" and answers["comment"] == "好"
    with pytest.raises(InvalidInput) as refused:
        check_answers(QUESTIONS, answers)
    assert [(e.pointer, e.reason) for e in refused.value.field_errors] == [
        ("/answers/nps", "answer_out_of_scale")]
    assert answers_from_form(QUESTIONS, {"nps": ["-1"]})["nps"] == -1
