"""Swagger UI and ReDoc served from assets shipped with the service (no CDN), so the
explorer works on a network with no internet."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from app.api.security import public
from app.services.ports import RequestContext

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_JS_URL = "/docs-redoc.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def offline_redoc() -> bytes:
    """ReDoc as shipped, except that its side menu's Redocly logo no longer comes from
    their CDN: ``data:,`` is no image, so ReDoc's own error handler drops the logo."""
    return (ASSETS_DIR / "redoc.standalone.js").read_bytes().replace(REDOCLY_LOGO, b"data:,")


def install(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(REDOC_JS_URL, include_in_schema=False)
    async def redoc_js(_: Annotated[RequestContext, Depends(public())]) -> Response:
        return Response(offline_redoc(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(_: Annotated[RequestContext, Depends(public())]) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} — API explorer",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_redirect(
            _: Annotated[RequestContext, Depends(public())]) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(_: Annotated[RequestContext, Depends(public())]) -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title=f"{app.title} — reference",
            redoc_js_url=REDOC_JS_URL,
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False,
        )
