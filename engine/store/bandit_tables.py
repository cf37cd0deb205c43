"""DDL of the bandit tables (owned by the bandits feature)."""

DDL: list[str] = []
