"""search stage (see ../shared/docs/architecture.md)."""
