"""Files written as 4CAT and Zeeschuimer write them (see docs/formats.md), for the tests."""
