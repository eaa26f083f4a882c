"""Domain errors carry a locale key and values; pages translate them, nothing else."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command refused its input. `key` names a message in data/locales/*.toml."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def __repr__(self) -> str:
        return f"DomainError({self.key!r}, {self.values!r})"


class NotFound(DomainError):
    def __init__(self, what: str, **values: Any) -> None:
        super().__init__(f"error.not_found.{what}", **values)


class Forbidden(DomainError):
    def __init__(self, key: str = "error.forbidden", **values: Any) -> None:
        super().__init__(key, **values)


class Throttled(DomainError):
    def __init__(self, seconds: int) -> None:
        super().__init__("error.throttled", seconds=seconds)
