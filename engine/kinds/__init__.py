"""The problem kinds of this repository, one package each (see docs/architecture.md, section \"Adding a kind\")."""
