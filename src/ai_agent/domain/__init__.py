"""Domain entities: pydantic models with no I/O."""
