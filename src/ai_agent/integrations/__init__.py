"""Framework adapters over any ``Repository``: one module per framework, each an extra.

Importing this package imports no framework. Each adapter module asks for its framework
with :func:`require` or :func:`extra_required`, so that a missing extra is one
:class:`MissingExtraError` (an ``ImportError``) ending in ``pip install 'ai-agent[EXTRA]'``::

    from ai_agent.integrations import extra_required

    with extra_required("openai-agents", "agents", needed_by=__name__):
        from agents.memory import SessionABC

Every adapter names its conversation with a caller's string; :func:`session_uuid` maps it to
the ``Session.id`` it is stored under, the same for every adapter, so one conversation is
readable through the repository and through each framework:

* a string that parses as a UUID (``uuid.UUID(text)``: any case, with or without hyphens,
  braces or ``urn:uuid:``) names that session;
* any other string ``s`` maps to ``uuid.uuid5(SESSION_NAMESPACE, s)``.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from ai_agent.extras import MissingExtraError, extra_required, install_hint, require

__all__ = [
    "SESSION_NAMESPACE",
    "MissingExtraError",
    "extra_required",
    "install_hint",
    "require",
    "session_uuid",
]

SESSION_NAMESPACE = UUID("56315874-5b85-5be0-8bab-ab005418afd9")
"""Fixed forever: ``uuid5(NAMESPACE_URL, "ai-agent:integrations:session")``. Changing it
would orphan every stored conversation whose id is not a UUID."""


def session_uuid(session_id: str) -> UUID:
    """The ``Session.id`` of the conversation a framework calls ``session_id``.

    A UUID string names that session; any other string (the empty one included) maps to
    ``uuid5(SESSION_NAMESPACE, session_id)``, stable across processes and versions.
    """
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, not {type(session_id).__name__}")
    try:
        return UUID(session_id)
    except ValueError:
        return uuid5(SESSION_NAMESPACE, session_id)
