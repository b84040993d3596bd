"""The memory browser at /ui: server-rendered pages (Jinja2 + htmx) over the services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mnemo.ui.rendering import STATIC_DIR
from mnemo.ui.routes import router
from mnemo.ui.tokens import TokenSigner

STATIC_PATH = "/ui/static"


def install_ui(app: FastAPI) -> None:
    """Mount the pages and their static files. The cookie-signing secret lives in this app
    only: restarting the server logs every browser out."""
    app.state.ui_signer = TokenSigner()
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="ui-static")
