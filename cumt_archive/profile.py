"""Site profiles: YAML data describing a university's sites, validated on load."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_PROFILE = "cumt"
_TITLE_FIELDS = {"university", "title", "label"}


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class Column:
    key: str
    list_url: str
    name: str = ""


@dataclass(frozen=True)
class Profile:
    name: str
    university: str
    label: str
    title_format: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    columns: tuple[Column, ...]
    source: str = ""

    def front_title(self, title: str) -> str:
        return self.title_format.format(university=self.university, title=title, label=self.label)


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ProfileError(f"{where}: missing key '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise ProfileError(f"{where}: '{key}' must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _require(data, key, list, where)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ProfileError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(values)


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        context = getattr(exc, "context_mark", None)
        opened = f" ({exc.context} at line {context.line + 1})" if context and getattr(exc, "context", None) else ""
        raise ProfileError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}{opened}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping of keys, got {type(data).__name__}")
    title_format = _require(data, "title_format", str, source)
    fields = {f for _, f, _, _ in string.Formatter().parse(title_format) if f is not None}
    if not fields <= _TITLE_FIELDS or "title" not in fields:
        raise ProfileError(
            f"{source}: title_format may use only {{university}}, {{title}}, {{label}} and must use {{title}}"
        )
    columns = []
    keys = set()
    for i, entry in enumerate(_require(data, "columns", list, source)):
        where = f"{source}: columns[{i}]"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where}: each column is a mapping with 'key' and 'list'")
        key = _require(entry, "key", str, where)
        list_url = _require(entry, "list", str, where)
        if urlsplit(list_url).scheme not in ("http", "https") or not urlsplit(list_url).hostname:
            raise ProfileError(f"{where}: 'list' must be an absolute http(s) URL, got {list_url!r}")
        if key in keys:
            raise ProfileError(f"{where}: duplicate column key {key!r}")
        keys.add(key)
        columns.append(Column(key, list_url, str(entry.get("name", ""))))
    return Profile(
        name=_require(data, "name", str, source),
        university=_require(data, "university", str, source),
        label=_require(data, "label", str, source),
        title_format=title_format,
        tags=_strings(data, "tags", source),
        categories=_strings(data, "categories", source),
        allowed_domains=tuple(d.lower().lstrip(".") for d in _strings(data, "allowed_domains", source)),
        columns=tuple(columns),
        source=source,
    )


def load_profile(name_or_path: str | None = None) -> Profile:
    """A bundled profile by name (`cumt`) or a YAML file by path."""
    name_or_path = name_or_path or DEFAULT_PROFILE
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from exc
        return parse_profile(text, str(path))
    bundled = resources.files("cumt_archive") / "profiles" / f"{name_or_path}.yaml"
    if not bundled.is_file():
        raise ProfileError(f"no bundled profile named {name_or_path!r} and no such file")
    return parse_profile(bundled.read_text(encoding="utf-8"), f"profiles/{name_or_path}.yaml")
