"""Retention and copy run on every backend: the contract suite's ``backend`` and
``repository`` fixtures, reused as they are."""

from contract.conftest import backend, repository

__all__ = ["backend", "repository"]
