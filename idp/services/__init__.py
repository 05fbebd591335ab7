"""The service layer: domain rules over a SQLAlchemy session.

Functions take a session, the :class:`~idp.context.Context` and an
:class:`Actor`, and leave committing to the caller (one transaction per
request or command).
"""
