"""Indexer stage: sources (folders, 4CAT zips and tables) -> decode -> embed -> upsert."""
