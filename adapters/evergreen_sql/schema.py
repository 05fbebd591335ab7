"""The subset of Evergreen's schema the adapter reads and writes.

Names, types and constraints follow Evergreen's ``Open-ILS/src/sql/Pg`` files
(``005.schema.actors.sql``, ``006.schema.permissions.sql``, ``002.schema.config.sql``):
``actor.usr`` and ``actor.card`` point at each other with DEFERRABLE INITIALLY
DEFERRED keys, patrons are soft-deleted (``deleted``), standing penalties block
circulation. Two additions of ours, both marked below: one active card per user
(a partial unique index) and an index for finding the create key setting.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

metadata = MetaData()
SCHEMAS = ("actor", "config", "permission")


def _fk(target: str, *, name: str | None = None, use_alter: bool = False) -> ForeignKey:
    """Evergreen declares its actor keys DEFERRABLE INITIALLY DEFERRED: checked at COMMIT."""
    return ForeignKey(target, name=name, use_alter=use_alter, deferrable=True,
                      initially="DEFERRED")


org_unit = Table(
    "org_unit", metadata,
    Column("id", Integer, primary_key=True),
    Column("shortname", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    schema="actor",
)

grp_tree = Table(
    "grp_tree", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("parent", Integer, _fk("permission.grp_tree.id")),
    schema="permission",
)

identification_type = Table(
    "identification_type", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    schema="config",
)

standing_penalty = Table(
    "standing_penalty", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("label", Text, nullable=False),
    # e.g. 'CIRC|HOLD|RENEW'; NULL means an informational penalty that blocks nothing.
    Column("block_list", Text),
    schema="config",
)

usr = Table(
    "usr", metadata,
    Column("id", Integer, primary_key=True),
    Column("card", Integer, _fk("actor.card.id", use_alter=True, name="actor_usr_card_fkey"),
           unique=True),
    Column("profile", Integer, _fk("permission.grp_tree.id"), nullable=False),
    Column("usrname", Text, nullable=False, unique=True),
    Column("ident_type", Integer, _fk("config.identification_type.id"), nullable=False),
    Column("ident_value", Text),
    Column("ident_type2", Integer, _fk("config.identification_type.id")),
    Column("ident_value2", Text),
    Column("family_name", Text, nullable=False),
    Column("first_given_name", Text, nullable=False),
    Column("dob", Date),
    Column("home_ou", Integer, _fk("actor.org_unit.id"), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("barred", Boolean, nullable=False, server_default=text("false")),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Column("create_date", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("expire_date", DateTime(timezone=True), nullable=False,
           server_default=text("now() + '3 years'::interval")),
    Column("last_update_time", DateTime(timezone=True), server_default=text("now()")),
    schema="actor",
)

# Evergreen's look-up indexes on actor.usr (lower(), as its schema files before the
# evergreen.lowercase() wrapper): names and identification values are found through
# the lower-cased value, so an equality look-up names both (see the store's ``_equal``).
Index("actor_usr_family_name_idx", func.lower(usr.c.family_name))
Index("actor_usr_first_given_name_idx", func.lower(usr.c.first_given_name))
Index("actor_usr_ident_value_idx", func.lower(usr.c.ident_value))
Index("actor_usr_ident_value2_idx", func.lower(usr.c.ident_value2))
Index("actor_usr_home_ou_idx", usr.c.home_ou)

card = Table(
    "card", metadata,
    Column("id", Integer, primary_key=True),
    Column("usr", Integer, _fk("actor.usr.id"), nullable=False),
    Column("barcode", Text, nullable=False, unique=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Index("actor_card_usr_idx", "usr"),
    # Ours, not Evergreen's: at most one active card per user.
    Index("actor_card_one_active_per_usr", "usr", unique=True,
          postgresql_where=text("active")),
    schema="actor",
)

usr_standing_penalty = Table(
    "usr_standing_penalty", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_unit", Integer, ForeignKey("actor.org_unit.id"), nullable=False),
    Column("usr", Integer, ForeignKey("actor.usr.id"), nullable=False),
    Column("standing_penalty", Integer, ForeignKey("config.standing_penalty.id"),
           nullable=False),
    Column("staff", Integer, ForeignKey("actor.usr.id")),
    Column("set_date", DateTime(timezone=True), server_default=text("now()")),
    Column("stop_date", DateTime(timezone=True)),
    Column("note", Text),
    schema="actor",
)

usr_setting = Table(
    "usr_setting", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("usr", Integer, ForeignKey("actor.usr.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),  # JSON text, as Evergreen stores settings
    UniqueConstraint("usr", "name", name="usr_once_per_key"),
    # Ours, not Evergreen's: find a setting by value without a scan.
    Index("actor_usr_setting_name_value_idx", "name", "value"),
    schema="actor",
)


def create_all(conn: Connection) -> None:
    """Create the schemas and tables (tests and demos; Evergreen ships its own)."""
    for name in SCHEMAS:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    metadata.create_all(conn)
