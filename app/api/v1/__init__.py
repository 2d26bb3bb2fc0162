"""Version 1 of the HTTP API, mounted at ``/api/v1``."""

from fastapi import APIRouter

from app.api.v1 import api_keys, audit, auth, people

api_router = APIRouter(prefix="/api/v1")
for module in (auth, people, api_keys, audit):
    api_router.include_router(module.router)
