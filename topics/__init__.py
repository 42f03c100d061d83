"""topics stage (see ../shared/docs/architecture.md)."""
