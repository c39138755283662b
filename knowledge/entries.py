"""Reading knowledge files: typed access to one YAML entry; errors name file and entry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

from bot.errors import KnowledgeError

ID: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
ENHANCED: Final = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
URL: Final = re.compile(r"https?://\S+")
HOST: Final = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
T = TypeVar("T")


class Entry:
    """Typed field access for one YAML mapping; every failure names file and entry."""

    def __init__(self, source: str, entry: str, data: object, fields: frozenset[str]) -> None:
        self.source = source
        self.entry = entry
        if not isinstance(data, dict):
            self.fail(f"must be a mapping of fields, not {kind_of(data)}")
        self.data: dict[Any, Any] = data
        if isinstance(data.get("id"), str) and data["id"]:
            self.entry = data["id"]
        extra = sorted(str(key) for key in data if key not in fields)
        if extra:
            self.fail(f"unknown field(s): {', '.join(extra)}")

    def fail(self, reason: str) -> NoReturn:
        raise KnowledgeError(source=self.source, entry=self.entry, reason=reason)

    def require(self, name: str) -> object:
        if name not in self.data:
            self.fail(f"missing field '{name}'")
        return self.data[name]

    def text(self, name: str) -> str:
        return self.check_text(name, self.require(name))

    def check_text(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            self.fail(f"'{name}' must be text, not {kind_of(value)}")
        text = value.strip()
        if not text:
            self.fail(f"'{name}' is empty")
        return text

    def optional_text(self, name: str) -> str | None:
        value = self.require(name)
        return None if value is None else self.check_text(name, value)

    def integer(self, name: str, value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"'{name}' must be a whole number, not {kind_of(value)}")
        number = value
        if not low <= number <= high:
            self.fail(f"'{name}' must be between {low} and {high}, not {number}")
        return number

    def texts(self, name: str, *, min_items: int = 0) -> tuple[str, ...]:
        return self.text_list(name, self.require(name), min_items=min_items)

    def text_list(self, name: str, items: object, *, min_items: int = 0) -> tuple[str, ...]:
        if not isinstance(items, list):
            self.fail(f"'{name}' must be a list, not {kind_of(items)}")
        result = tuple(self.check_text(f"{name}[{i}]", item) for i, item in enumerate(items))
        if len(result) < min_items:
            self.fail(f"'{name}' needs at least {min_items} item(s)")
        return result

    def ident(self, name: str = "id") -> str:
        value = self.text(name)
        if not ID.fullmatch(value):
            self.fail(f"'{name}' {value!r} must be lower-case letters, digits and dashes")
        return value

    def choice(self, name: str, allowed: frozenset[str], value: object = None) -> str:
        text = self.text(name) if value is None else self.check_text(name, value)
        if text not in allowed:
            self.fail(f"'{name}' must be one of {', '.join(sorted(allowed))}, not {text!r}")
        return text


def kind_of(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def read_yaml(path: Path, source: str) -> object:
    # Imported here: a start-up served from the knowledge cache never parses YAML.
    import yaml

    # libyaml's C parser when PyYAML was built with it (about 10x faster: the knowledge
    # base is parsed whenever the cache misses); the pure-Python one otherwise. Same results.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise KnowledgeError(
            source=source, entry=None, reason=f"not valid YAML{where}: {problem}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(source=source, entry=None, reason=f"cannot read: {exc}") from None
