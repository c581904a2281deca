"""Strict YAML reading for policy files (org directory, rules, ladders, scenarios).

Every error names the file, the line, the key path and how to fix it, e.g.::

    playbooks/org/demo-city.yaml:41 units[3].kind: 'departmnt' is not allowed
      fix: use one of government, gov_office, propaganda, department, township, subdistrict
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

KeyPath = tuple[str | int, ...]
E = TypeVar("E", bound=Enum)
T = TypeVar("T")


class PolicyError(ValueError):
    """A policy file is invalid. str() gives file:line key: problem, and the fix."""

    def __init__(self, file: str, line: int | None, key: str, problem: str, fix: str) -> None:
        self.file, self.line, self.key, self.problem, self.fix = file, line, key, problem, fix
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where} {key}: {problem}\n  fix: {fix}" if key else f"{where}: {problem}\n  fix: {fix}")


def format_key(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class YamlDoc:
    """A parsed YAML file that remembers the line of every key."""

    def __init__(self, file: str, data: Any, lines: dict[KeyPath, int]) -> None:
        self.file, self.data, self.lines = file, data, lines

    def error(self, path: KeyPath, problem: str, fix: str) -> PolicyError:
        line = None
        probe = path
        while line is None and probe:
            line = self.lines.get(probe)
            probe = probe[:-1]
        return PolicyError(self.file, line or self.lines.get(()), format_key(path), problem, fix)

    def root(self) -> Section:
        if not isinstance(self.data, dict):
            raise self.error(
                (), "the file must contain a mapping at the top level", "start the file with `key: value` lines"
            )
        return Section(self, (), self.data)


def load_yaml(path: Path | str, *, display_name: str | None = None) -> YamlDoc:
    """Parse `path` strictly (duplicate keys are errors), keeping line numbers."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(
            name, None, "", f"cannot read the file ({exc.strerror})", "check the path and permissions"
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(name, None, "", f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8") from exc
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDoc:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(
            name, line, "", f"invalid YAML: {problem}", "check indentation, colons and quotes on that line"
        ) from None
    lines: dict[KeyPath, int] = {}
    data = _build(node, (), lines, name, SafeConstructor()) if node is not None else None
    return YamlDoc(name, data, lines)


def _build(
    node: Node, path: KeyPath, lines: dict[KeyPath, int], name: str, ctor: SafeConstructor, line: int | None = None
) -> Any:
    """`line`: the line of the key whose value `node` is. A block value (a mapping or list on the
    lines below its key, or folded text) starts a line later; errors about it name the key's line."""
    lines[path] = line if line is not None else node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                raise PolicyError(
                    name, key_node.start_mark.line + 1, format_key(path), f"key {key!r} must be text", "quote the key"
                )
            key = str(key)
            if key in result:
                raise PolicyError(
                    name,
                    key_node.start_mark.line + 1,
                    format_key((*path, key)),
                    "duplicate key",
                    "keep only one of them",
                )
            result[key] = _build(value_node, (*path, key), lines, name, ctor, key_node.start_mark.line + 1)
        return result
    if isinstance(node, SequenceNode):
        return [_build(child, (*path, i), lines, name, ctor) for i, child in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    return ctor.construct_object(node, deep=True)


MISSING = object()
_MISSING = MISSING


class Section:
    """Typed, path-aware access to one mapping of a YamlDoc."""

    def __init__(self, doc: YamlDoc, path: KeyPath, data: dict[str, Any]) -> None:
        self.doc, self.path, self.data = doc, path, data

    def error(self, key: str | int | None, problem: str, fix: str) -> PolicyError:
        return self.doc.error(self.path if key is None else (*self.path, key), problem, fix)

    def only(self, *allowed: str) -> Section:
        """Reject keys outside `allowed` (catches typos), suggesting the nearest allowed key."""
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                fix = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                raise self.error(key, f"unknown key '{key}'", fix)
        return self

    def get(self, key: str, kind: type[T] | tuple[type, ...], default: Any = _MISSING) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is _MISSING:
                raise self.error(None, f"missing required key '{key}'", f"add `{key}:` here")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            raise self.error(key, f"expected {_kind_name(kind)}, got {value!r}", f"write {key} as {_kind_name(kind)}")
        return value

    def text(self, key: str, default: Any = _MISSING) -> Any:
        value = self.get(key, (str, int, float), default)
        return str(value) if value is not None and not isinstance(value, str) else value

    def enum(self, key: str, kind: type[E], default: Any = _MISSING) -> Any:
        raw = self.get(key, (str, int), default)
        if raw is None or isinstance(raw, kind):
            return raw
        try:
            return kind(str(raw))
        except ValueError:
            choices = ", ".join(str(m.value) for m in kind)
            raise self.error(key, f"{raw!r} is not allowed", f"use one of {choices}") from None

    def strings(self, key: str, default: Any = ()) -> tuple[str, ...]:
        values = self.get(key, list, None)
        if values is None:
            return tuple(default)
        for i, value in enumerate(values):
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise self.doc.error((*self.path, key, i), f"expected text, got {value!r}", "write the entry as text")
        return tuple(str(v) for v in values)

    def instant(self, key: str, default: Any = _MISSING) -> Any:
        value = self.get(key, (datetime, date, str), default)
        if value is None or value is default:
            return value
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise self.error(
                    key, f"{value!r} is not an ISO 8601 time", "write e.g. 2026-09-24T09:00:00+08:00"
                ) from None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise self.error(key, f"{value!r} has no UTC offset", "write the offset, e.g. 2026-09-24T09:00:00+08:00")
        return value

    def section(self, key: str, required: bool = True) -> Section | None:
        value = self.get(key, dict, _MISSING if required else None)
        return None if value is None else Section(self.doc, (*self.path, key), value)

    def sections(self, key: str, required: bool = True) -> Iterator[Section]:
        values = self.get(key, list, _MISSING if required else [])
        for i, value in enumerate(values):
            if not isinstance(value, dict):
                raise self.doc.error(
                    (*self.path, key, i), f"expected a mapping, got {value!r}", "write `key: value` entries"
                )
            yield Section(self.doc, (*self.path, key, i), value)

    def map_values(self, key: str, convert: Callable[[str, Any], T]) -> dict[str, T]:
        value = self.get(key, dict, {})
        return {k: convert(k, v) for k, v in value.items()}

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> Mapping[str, Any]:
        return self.data


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    words = {
        str: "text",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a mapping",
    }
    return " or ".join(words.get(k, k.__name__) for k in kinds)
