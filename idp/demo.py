"""The demo province: three member libraries and a few dozen synthetic readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from . import migrate
from .cardsvc import keys as card_keys
from .config_file import render_config, write_config
from .context import Context
from .models import Reader
from .oidc import keys as oidc_keys
from .schemas import LibraryIn, RegistrationIn
from .services import libraries, staff
from .services.actor import Actor, Role
from .services.lookup import search_readers
from .services.registration import register_reader
from .settings import Settings, load_settings
from .synthetic import IdentityGenerator

DEMO_LIBRARIES = [
    LibraryIn(code="PROV", name="省立图书馆 Provincial Library", kind="public"),
    LibraryIn(code="CITY", name="市图书馆 City Library", kind="public"),
    LibraryIn(code="UNIV", name="大学图书馆 University Library", kind="academic"),
]
DEMO_TOKEN = "demo-admin"
SEED = 2026


@dataclass(frozen=True)
class DemoInfo:
    settings: Settings
    config_path: Path
    admin_token: str
    reader_card: str
    reader_password: str
    created: bool


def demo_config(instance: Path, host: str, port: int) -> Path:
    path = instance / "readerpass.toml"
    if not path.exists():
        write_config(path, render_config(
            province_code="DEMO",
            province_name="Demo Province 示范省",
            public_url=f"http://{host}:{port}",
            secure_cookies=False,  # the demo is served over plain HTTP on localhost
            argon2_memory_kib=19456,  # RFC 9106 second recommended option; quick to seed
        ))
    return path


def prepare_demo(instance: Path, *, host: str, port: int, readers: int) -> DemoInfo:
    """Create (or reuse) the demo instance; return what to print."""
    config_path = demo_config(instance, host, port)
    settings = load_settings(config_path, environ={})
    ctx = Context.build(settings)
    migrate.upgrade(ctx.engine)
    generator = IdentityGenerator(SEED)
    actor = Actor(Role.SYSTEM, "demo")
    with ctx.transaction() as session:
        created = (session.scalar(select(func.count()).select_from(Reader)) or 0) == 0
        if created:
            for library in DEMO_LIBRARIES:
                libraries.add_library(session, library, actor=actor, now=ctx.now())
            oidc_keys.rotate(session, ctx, actor=actor)  # a signing key and the next one
            card_keys.rotate(session, ctx, actor=actor)  # trust anchor and card keys
        codes = [lib.code for lib in DEMO_LIBRARIES]
        first = None
        adults = []
        for index, person in enumerate(generator.readers(readers, min_age=18, max_age=80)):
            if not created:
                first = first or person
                continue
            reader = register_reader(session, ctx, RegistrationIn(
                family_name=person.family_name, given_name=person.given_name,
                document_type="resident_id", document_number=person.resident_id,
                mobile=person.mobile, home_library=codes[index % len(codes)],
                password=person.password,
            ), actor=actor)
            first = first or person
            adults.append(reader)
        for index, child in enumerate(generator.readers(3, min_age=4, max_age=12)):
            if created:
                register_reader(session, ctx, RegistrationIn(
                    family_name=adults[index].family_name, given_name=child.given_name,
                    document_type="resident_id", document_number=child.resident_id,
                    home_library=adults[index].home_library.code, guardian=adults[index].id,
                ), actor=actor)
        for token, _library in staff.list_tokens(session):
            if token.name == DEMO_TOKEN:
                staff.revoke_token(session, DEMO_TOKEN, actor=actor, now=ctx.now())
        admin = staff.create_token(session, ctx.hasher, DEMO_TOKEN, actor=actor, now=ctx.now())
        assert first is not None
        found = search_readers(session, ctx, first.resident_id)
        card = found[0].card_number if found else ""
    ctx.dispose()
    return DemoInfo(settings, config_path, admin, card, first.password, created)
