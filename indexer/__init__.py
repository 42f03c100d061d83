"""indexer stage (see ../shared/docs/architecture.md)."""
