"""``readerpass serve``: the production server (gunicorn)."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from ..app import create_app
from ..context import Context
from ..settings import load_settings
from ..web.worker import worker_class
from .common import context, domain_errors


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn with our app factory: each worker builds its own app and pools."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(context=Context.build(load_settings()))


@click.command("serve")
@click.option("--bind", help="ADDRESS:PORT (default: [server] bind).")
@click.option("--workers", type=click.IntRange(1, 64), help="Default: [server] workers.")
@click.option("--threads", type=click.IntRange(1, 64),
              help="Per worker; 1 serves requests on the worker's own thread. "
                   "Default: [server] threads.")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="One line per request on stdout.")
@domain_errors
def command(bind: str | None, workers: int | None, threads: int | None,
            access_log: bool) -> None:
    """Serve the app under gunicorn. Refuses a database that is not at head."""
    settings = context().settings  # validates settings and the schema before forking
    _Gunicorn({
        "bind": bind or settings.server.bind,
        "workers": workers or settings.server.workers,
        "threads": threads or settings.server.threads,
        "worker_class": worker_class(settings.server.client_timeout_seconds),
        # A worker serving a request on its own thread reports to the arbiter only
        # between requests: give a stalled client its full timeout before the
        # arbiter would restart the worker.
        "timeout": settings.server.client_timeout_seconds + 30,
        # gunicorn's control socket sits at one path per user ($HOME/.gunicorn), which
        # two servers on a host would share; the server is managed with signals.
        "control_socket_disable": True,
        "accesslog": "-" if access_log else None,
        # Paths only: query strings may hold search text, and we log no personal data.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "preload_app": False,
    }).run()
