"""The problem kinds of this repository, one package each (docs/architecture.md, "Adding a kind")."""
