"""The command line: the composition root that wires stages together."""
