"""``readerpass demo``: a ready-made demo province on SQLite, served locally."""

from __future__ import annotations

from pathlib import Path

import click
from werkzeug.serving import run_simple

from ..app import create_app
from ..context import Context
from ..demo import prepare_demo
from .common import domain_errors


@click.command("demo")
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path),
              default=Path("instance"), show_default=True,
              help="Folder for the demo's settings and SQLite database (reused if present).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--readers", type=click.IntRange(3, 500), default=36, show_default=True,
              help="Synthetic adult readers to create on first run.")
@click.option("--no-serve", is_flag=True, help="Prepare the instance and exit.")
@domain_errors
def command(instance: Path, host: str, port: int, readers: int, no_serve: bool) -> None:
    """Create (or reuse) a demo province, print its URLs and credentials, and serve it."""
    info = prepare_demo(instance, host=host, port=port, readers=readers)
    base = info.settings.server.public_url
    click.echo(f"ReaderPass demo — {info.settings.province.name}")
    click.echo(f"  instance        {instance.resolve()} "
               f"({'created' if info.created else 'reused'})")
    click.echo(f"  settings        {info.config_path}")
    click.echo(f"  registration    {base}/register")
    click.echo(f"  health          {base}/healthz")
    click.echo(f"  OpenID Connect  {base}/.well-known/openid-configuration")
    click.echo(f"  reader login    {base}/login  (then {base}/account, card: {base}/card)")
    click.echo(f"  gate kit        readerpass gate sync --url {base} --dir gate "
               "--anchor anchor.jwk  (anchor: readerpass cards anchor export)")
    click.echo(f"  device login    {base}/device  (codes from /oauth/device_authorization)")
    click.echo(f"  staff API       {base}/api/readers  (OpenAPI: {base}/api/openapi.json)")
    click.echo(f"  admin token     {info.admin_token}")
    click.echo(f"  demo reader     card {info.reader_card}, password {info.reader_password}")
    click.echo(f"  SMS outbox      {info.settings.outbox_path}")
    click.echo(f"  try: curl -H 'Authorization: Bearer {info.admin_token}' {base}/api/readers")
    if no_serve:
        return
    app = create_app(context=Context.build(info.settings))
    # Flask's app.run() does nothing under its own CLI, so start werkzeug directly.
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
