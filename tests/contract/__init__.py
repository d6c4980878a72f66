"""The one contract suite: every scenario runs on every backend (see ``conftest.py``)."""
