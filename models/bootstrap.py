"""First-run set-up shared by `roundtable serve` and the app itself."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from models import access, demo, fonts


def bootstrap(engine: Engine, *, with_demo: bool = True) -> dict[str, str]:
    """Credentials, web fonts and (on an empty database) the demo workshop.

    Returns credentials generated just now, to be printed once; later calls return {}.
    """
    generated = access.ensure_credentials(engine)
    fonts.install_static()
    if with_demo:
        demo.ensure_demo(engine)
    return generated
