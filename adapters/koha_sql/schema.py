"""The subset of Koha's schema the adapter reads and writes.

Table and column names, types and constraints follow Koha's
``installer/data/mysql/kohastructure.sql``; columns the adapter never touches are
left out. Tests create these tables in a scratch database; in production they
already exist and are Koha's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

_INNODB: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
           "mysql_collate": "utf8mb4_unicode_ci"}

branches = Table(
    "branches", metadata,
    Column("branchcode", String(10), primary_key=True),
    Column("branchname", Text, nullable=False),
    **_INNODB,
)

categories = Table(
    "categories", metadata,
    Column("categorycode", String(10), primary_key=True),
    Column("description", Text),
    Column("enrolmentperiod", SmallInteger),
    Column("category_type", String(1), nullable=False, server_default="A"),
    **_INNODB,
)

borrowers = Table(
    "borrowers", metadata,
    Column("borrowernumber", Integer, primary_key=True, autoincrement=True),
    Column("cardnumber", String(32), unique=True),
    Column("surname", Text),
    Column("firstname", Text),
    Column("dateofbirth", Date),
    Column("branchcode", String(10),
           ForeignKey("branches.branchcode", name="borrowers_ibfk_2",
                      ondelete="RESTRICT", onupdate="CASCADE"),
           nullable=False, server_default=""),
    Column("categorycode", String(10),
           ForeignKey("categories.categorycode", name="borrowers_ibfk_1",
                      ondelete="RESTRICT", onupdate="CASCADE"),
           nullable=False, server_default=""),
    Column("dateexpiry", Date),
    Column("gonenoaddress", SmallInteger),
    Column("lost", SmallInteger),
    Column("debarred", Date),
    Column("debarredcomment", String(255)),
    Column("userid", String(75), unique=True),
    # Koha keeps only second resolution here, hence the row hash in the version token.
    Column("updated_on", TIMESTAMP, nullable=False,
           server_default=text("current_timestamp() ON UPDATE current_timestamp()")),
    # Koha's prefix indexes on the names: patron searches (and our matching rules,
    # name and birth date) do not read the whole table.
    Index("surname_idx", "surname", mysql_length=191),
    Index("firstname_idx", "firstname", mysql_length=191),
    **_INNODB,
)

# Koha's move_to_deleted copies a deleted (or merged-away) patron here: same
# columns as borrowers, no primary key or unique key.
deletedborrowers = Table(
    "deletedborrowers", metadata,
    *(Column(c.name, c.type, nullable=c.nullable) for c in borrowers.columns
      if c.name != "updated_on"),
    Column("updated_on", TIMESTAMP, nullable=False,
           server_default=text("current_timestamp() ON UPDATE current_timestamp()")),
    Index("deletedborrowers_borrowernumber", "borrowernumber"),
    Index("deletedborrowers_cardnumber", "cardnumber"),
    **_INNODB,
)

borrower_attribute_types = Table(
    "borrower_attribute_types", metadata,
    Column("code", String(64), primary_key=True),
    Column("description", String(255), nullable=False),
    Column("repeatable", SmallInteger, nullable=False, server_default="0"),
    # Koha checks unique_id in Koha::Patron::Attribute, not with a database index.
    Column("unique_id", SmallInteger, nullable=False, server_default="0"),
    **_INNODB,
)

borrower_attributes = Table(
    "borrower_attributes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("borrowernumber", Integer,
           ForeignKey("borrowers.borrowernumber", name="borrower_attributes_ibfk_1",
                      ondelete="CASCADE", onupdate="CASCADE"),
           nullable=False),
    Column("code", String(64),
           ForeignKey("borrower_attribute_types.code", name="borrower_attributes_ibfk_2",
                      ondelete="CASCADE", onupdate="CASCADE"),
           nullable=False),
    Column("attribute", String(255)),
    Index("code_attribute", "code", "attribute"),
    **_INNODB,
)

borrower_debarments = Table(
    "borrower_debarments", metadata,
    Column("borrower_debarment_id", Integer, primary_key=True, autoincrement=True),
    Column("borrowernumber", Integer,
           ForeignKey("borrowers.borrowernumber", name="borrower_debarments_ibfk_1",
                      ondelete="CASCADE", onupdate="CASCADE"),
           nullable=False),
    Column("expiration", Date),
    Column("type", Enum("SUSPENSION", "OVERDUES", "MANUAL", "DISCHARGE"),
           nullable=False, server_default="MANUAL"),
    Column("comment", Text),
    Column("manager_id", Integer),
    Column("created", TIMESTAMP, nullable=False, server_default=text("current_timestamp()")),
    **_INNODB,
)
