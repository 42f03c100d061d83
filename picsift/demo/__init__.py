"""The offline demo: a generated 4CAT-style corpus for the toy models."""
