"""Site profiles: YAML data describing a university's sites, validated on load."""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_PROFILE = "cumt"
_TITLE_FIELDS = {"university", "title", "label"}
MAX_PROFILE_BYTES = 256 * 1024  # a profile is a page of YAML; anything bigger is refused before parsing
_PROFILE_KEYS = {"name", "university", "label", "title_format", "tags", "categories", "allowed_domains", "columns"}
_COLUMN_KEYS = {"key", "list", "name"}


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


class _Mapping(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of each key, for errors that point at it."""

    lines: dict[Any, int]


class _ProfileLoader(yaml.SafeLoader):
    """safe_load, refusing duplicate keys (YAML would keep the last one silently)."""

    source = ""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in lines:
                raise ProfileError(f"{self.source}:{line}: duplicate key {key!r} (first at line {lines[key]})")
            if isinstance(key, (str, int, float, bool)):
                lines[key] = line
        mapping = _Mapping(super().construct_mapping(node, deep=deep))
        mapping.lines = lines
        return mapping


_ProfileLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _ProfileLoader.construct_mapping)


def _refuse_expansions(text: str, source: str) -> None:
    """No anchors, aliases or tags: a profile is plain data, and an alias bomb must fail before it expands."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken, yaml.TagToken)):
                kind = {yaml.AnchorToken: "anchor", yaml.AliasToken: "alias", yaml.TagToken: "tag"}[type(token)]
                raise ProfileError(f"{source}:{token.start_mark.line + 1}:{token.start_mark.column + 1}: "
                                   f"YAML {kind}s are not allowed in a profile (write the value out)")
    except yaml.YAMLError:
        pass  # reported with its line by the parse that follows


def _line(data: Any, key: Any) -> str:
    lines = getattr(data, "lines", {})
    return f":{lines[key]}" if key in lines else ""


def _known_keys(data: dict[str, Any], known: set[str], where: str, source: str) -> None:
    for key in data:
        if key not in known:
            raise ProfileError(f"{source}{_line(data, key)}: {where}unknown key {key!r}; known keys: "
                               f"{', '.join(sorted(known))}")


@functools.lru_cache(maxsize=8)  # pure; a crawl checks its profile three times before it starts
def parse_profile(text: str, source: str) -> Profile:
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source}: {len(text)} characters; a profile has at most {MAX_PROFILE_BYTES}")
    _refuse_expansions(text, source)
    loader = _ProfileLoader(text)
    loader.source = source
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        context = getattr(exc, "context_mark", None)
        opened = f" ({exc.context} at line {context.line + 1})" if context and getattr(exc, "context", None) else ""
        raise ProfileError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}{opened}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping of keys, got {type(data).__name__}")
    _known_keys(data, _PROFILE_KEYS, "", source)
    title_format = _require(data, "title_format", str, source)
    try:
        parsed = list(string.Formatter().parse(title_format))
    except ValueError as exc:
        raise ProfileError(f"{source}{_line(data, 'title_format')}: title_format: {exc}") from exc
    fields = {f for _, f, _, _ in parsed if f is not None}
    plain = all(spec == "" and conversion is None for _, f, spec, conversion in parsed if f is not None)
    if not fields <= _TITLE_FIELDS or "title" not in fields or not plain:
        raise ProfileError(
            f"{source}{_line(data, 'title_format')}: title_format may use only plain {{university}}, {{title}}, "
            f"{{label}} (no format specs or conversions) and must use {{title}}"
        )
    columns = []
    keys = set()
    for i, entry in enumerate(_require(data, "columns", list, source)):
        where = f"{source}: columns[{i}]"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where}: each column is a mapping with 'key' and 'list'")
        _known_keys(entry, _COLUMN_KEYS, f"columns[{i}]: ", source)
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
            with open(path, "rb") as handle:
                raw = handle.read(MAX_PROFILE_BYTES + 1)
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from exc
        if len(raw) > MAX_PROFILE_BYTES:
            raise ProfileError(f"{path}: larger than {MAX_PROFILE_BYTES} bytes; a profile is a page of YAML")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileError(f"{path}: not UTF-8 text (byte {exc.start}); save the profile as UTF-8") from exc
        return parse_profile(text, str(path))
    bundled = resources.files("cumt_archive") / "profiles" / f"{name_or_path}.yaml"
    if not bundled.is_file():
        raise ProfileError(f"no bundled profile named {name_or_path!r} and no such file")
    return parse_profile(bundled.read_text(encoding="utf-8"), f"profiles/{name_or_path}.yaml")
