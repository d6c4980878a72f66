"""ai-agent: the persistence and configuration layer for AI-agent backends."""

__version__ = "0.2.0"

__all__ = ["__version__"]
