"""Input schemas (pydantic) for the project's TOML files, with Dutch messages.

Every schema derives from :class:`Schema`: unknown keys are refused, nothing is coerced
(``"250"`` is not a number, ``5`` is not a text), and numbers must be finite. A failed
validation becomes ONE line naming the file and, per problem, the key path, for example
``kompas.toml: indicator.woz.gewicht: moet een getal groter dan 0 zijn (nu: 'zwaar')``.
Lists count from 1, as a person counts the ``[[thema]]`` blocks in a file.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from wijkkompas.errors import WijkkompasError, capped


class Schema(BaseModel):
    """Strict base of every input schema."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              frozen=True, populate_by_name=True)
    #: How a key of this table is called in messages (singular, plural).
    woord: ClassVar[tuple[str, str]] = ("sleutel", "sleutels")
    #: Where the keys are documented. When given, an unknown key's message names the
    #: nearest keys and this place instead of listing every key.
    documented_in: ClassVar[str] = ""


S = TypeVar("S", bound=Schema)


def parse_schema(schema: type[S], raw: Any, where: str, hint: str = "") -> S:
    """``raw`` checked against ``schema``; problems become one WijkkompasError line that
    starts with ``where`` and ends with ``hint`` (what to do), when given."""
    if not isinstance(raw, Mapping):
        raise WijkkompasError(f"{where}: verwacht een tabel met sleutels, niet "
                              f"{_shown(raw)}.{' ' + hint if hint else ''}")
    try:
        return schema.model_validate(dict(raw))
    except ValidationError as exc:
        problems = [problem_line(schema, error) for error in exc.errors()]
        raise WijkkompasError(f"{where}: {capped(problems)}.{' ' + hint if hint else ''}") \
            from None


def key_path(loc: tuple[int | str, ...]) -> str:
    """('thema', 1, 'code') -> 'thema[2].code'."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a problem in a table's key itself
            continue
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside Optional/Annotated, with the Annotated constraints."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation, metadata
            annotation = options[0]
        else:
            return annotation, metadata


def _walk(schema: type[Schema], loc: tuple[int | str, ...]) -> tuple[Any, list[Any], Any]:
    """Along ``loc``: the expected type at its end, its constraints, and the schema whose
    table holds the last key (for the list of known keys)."""
    current: Any = schema
    metadata: list[Any] = []
    table: Any = schema
    for part in loc:
        current, extra = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            table = current
            field = _field(current, str(part))
            if field is None:
                return None, [], table
            current, metadata = field.annotation, list(field.metadata)
            continue
        origin, args = typing.get_origin(current), typing.get_args(current)
        if origin is dict and args:
            current, metadata = args[1], []
        elif origin in (list, tuple) and args:
            current, metadata = args[0], []
        else:
            return current, metadata + extra, table
    current, extra = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        table = current
    return current, metadata + extra, table


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _known(model: Any) -> list[str]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _unknown_key(table: Any, loc: tuple[int | str, ...]) -> str:
    """An unknown key: with the keys of its table, or where a documented table's keys
    are listed and the nearest of them (difflib)."""
    woord = getattr(table, "woord", Schema.woord)
    known = _known(table)
    head = f"onbekende {woord[0]} '{key_path(loc)}'"
    documented = getattr(table, "documented_in", "")
    if not documented:
        return head + (f"; bekende {woord[1]}: {', '.join(known)}" if known else "")
    close = difflib.get_close_matches(str(loc[-1]), known, n=3, cutoff=0.6)
    where = f"{woord[1]} staan in {documented}"
    if close:
        return f"{head}; bedoelt u {' of '.join(close)}? Alle {where}"
    return f"{head}; alle {where}"


def _bounds(metadata: list[Any]) -> str:
    phrases = {"gt": "groter dan", "ge": "van minstens", "lt": "kleiner dan",
               "le": "van hoogstens"}
    flat = [inner for item in metadata
            for inner in (item.metadata if isinstance(item, FieldInfo) else [item])]
    words = [f"{phrase} {getattr(item, key):g}" for item in flat
             for key, phrase in phrases.items() if getattr(item, key, None) is not None]
    return " en ".join(words)


def _expected(kind: Any, metadata: list[Any]) -> str:
    origin = typing.get_origin(kind)
    if kind is bool:
        return "moet true of false zijn"
    if kind in (int, float):
        noun = "geheel getal" if kind is int else "getal"
        bounds = _bounds(metadata)
        return f"moet een {noun}{' ' + bounds if bounds else ''} zijn"
    if kind is str or kind is Path:  # a path is written as a text
        return "moet een tekst tussen aanhalingstekens zijn"
    if origin is typing.Literal:
        options = [repr(o) for o in typing.get_args(kind)]
        listed = ", ".join(options[:-1]) + f" of {options[-1]}" if len(options) > 1 \
            else options[0]
        return f"moet {listed} zijn"
    if origin in (list, tuple):
        inner, extra = _unwrap(typing.get_args(kind)[0])
        what = _expected(inner, extra).removeprefix("moet ").removesuffix(" zijn")
        return f"moet een lijst [...] zijn, elk element {what}"
    if origin is dict or (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return "moet een tabel met sleutels zijn"
    return "heeft een ongeldige waarde"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problem_line(schema: type[Schema], error: Any) -> str:
    """One of pydantic's errors as a Dutch phrase starting with the key path."""
    loc = tuple(error["loc"])
    path = key_path(loc)
    kind = error["type"]
    if kind == "missing":
        return f"'{path}' ontbreekt"
    if kind == "extra_forbidden":
        return _unknown_key(_walk(schema, loc[:-1])[2], loc)
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{path}: {message}" if path else message
    if kind == "string_pattern_mismatch":
        return (f"{path}: {_shown(error.get('input'))} heeft niet de verwachte vorm "
                f"{error.get('ctx', {}).get('pattern', '')}")
    if kind in ("too_short", "string_too_short"):
        return f"{path}: mag niet leeg zijn"
    expected, metadata, _ = _walk(schema, loc)
    text = _expected(expected, metadata)
    return f"{path}: {text} (nu: {_shown(error.get('input'))})"
