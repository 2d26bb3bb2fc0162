"""The router every v1 feature module starts from, so all share the conventions."""

from fastapi import APIRouter, Depends

from app.api.problems import error_responses
from app.api.query import check_query_and_form
from app.api.route_matching import AccordRoute

# 429: the general rate limit, when it is on (app/api/rate_limit.py)
COMMON_ERRORS = (400, 401, 403, 413, 415, 422, 429, 500, 503)


def feature_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/api/v1", tags=[tag], route_class=AccordRoute,
                     dependencies=[Depends(check_query_and_form)],
                     responses=error_responses(*COMMON_ERRORS))
