"""The other seeds' APIs, each a thin router over the same services.

Each dialect module exposes `router` (an APIRouter tagged with its seed) and
`install(renderers)`, which registers the error shape of its path prefixes. Adding a
dialect is one module and one line in DIALECTS.
"""

from __future__ import annotations

from types import ModuleType

from mnemo.api.dialects import seed000, seed002, seed003, seed004

DIALECTS: list[ModuleType] = [seed000, seed002, seed003, seed004]
