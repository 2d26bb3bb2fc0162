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
)

routers = [module.router for module in (auth, people, customers, change_requests, handovers,
                                        feedback, risks, knowledge, surveys, api_keys, audit)]
