"""Reading schemas/: the YAML loader, the base of the file models, and the error every malformed file raises.

Every YAML file of the catalogue is described by a pydantic model (`Spec` subclasses: strict types,
unknown keys forbidden, enums, cross-references as validators). A file that fails its model raises a
CatalogError naming the file, the key path (`rows[12].relations[0].check`) and the line: the fast C
loader reads every file, and only a failing one is composed again for the lines of its keys.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import inspect
import os
import pickle
import re
import sys
import tempfile
import time
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from pipelines import settings

SCHEMAS = settings.schemas_dir()  # package data of an installed edustat, else the checkout's schemas/
REFERENCE_ERROR = "catalog_reference"

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


# The C loader when PyYAML has it: a form file parses in milliseconds instead of ~0.1 s.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeys(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key given twice in one mapping: YAML would keep the last one
    silently (a row with two `filter:` lines counts by the second)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    first = seen[key_node.value].start_mark.line + 1
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} (first on line {first})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = key_node
        return super().construct_mapping(node, deep)


# Parsed YAML kept between processes (issue 17). Even with the C parser, a cold process spent most of
# the catalogue's load building Python objects from YAML (≈0.3 s of forms, indicators, code lists in
# every step's process). Each file's parsed data is pickled in the user's cache folder under the
# sha256 of its text and the versions of Python and PyYAML: an edited file hashes differently and is
# parsed again, so the data is always the file's. EDUSTAT_YAML_CACHE: another folder, or `off`. A
# folder that is not the user's own (or is writable by others) is not read, one that cannot be written
# is skipped: the cache only ever saves time. An entry not read for PRUNE_AFTER is deleted when a new one
# is written (an entry read is re-dated at most once a day), so old versions of files do not pile up.
YAML_CACHE_ENV = "EDUSTAT_YAML_CACHE"
PRUNE_AFTER = 30 * 86400  # seconds
_REDATE_AFTER = 86400  # seconds


def _yaml_cache() -> Path | None:
    """The cache folder, or None (off, or not safely the user's)."""
    chosen = os.environ.get(YAML_CACHE_ENV)
    if chosen == "off":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(chosen) if chosen else base / "edustat" / "yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
    except OSError:
        return None
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return None  # a pickle is code: never read one that someone else could have written
    return folder


def cache_key(text: str) -> str:
    versions = f"{sys.version_info[:3]}|{yaml.__version__}|{_SAFE_LOADER.__name__}|"
    return hashlib.sha256((versions + text).encode("utf-8")).hexdigest()


def load_yaml(path: Path) -> Any:
    """A YAML file parsed (a key given twice is an error), from the cache when its text was parsed before."""
    text = path.read_text(encoding="utf-8")
    folder = _yaml_cache()
    cached_file = folder / f"{cache_key(text)}.pickle" if folder is not None else None
    if cached_file is not None:
        try:
            data = pickle.loads(cached_file.read_bytes())  # noqa: S301 - the user's own folder (_yaml_cache)
            if time.time() - cached_file.stat().st_mtime > _REDATE_AFTER:
                os.utime(cached_file)  # still in use: not pruned
            return data
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
            pass  # not cached yet, or a damaged entry: parse again
    data = yaml.load(text, Loader=_UniqueKeys)  # noqa: S506 - a safe loader
    if cached_file is not None:
        prune_yaml_cache(cached_file.parent)
        try:  # written whole then renamed: a process reading at the same time sees all of it or nothing
            with tempfile.NamedTemporaryFile(dir=cached_file.parent, suffix=".tmp", delete=False) as out:
                out.write(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(out.name, cached_file)
        except OSError:
            pass
    return data


def prune_yaml_cache(folder: Path, older_than: float = PRUNE_AFTER) -> int:
    """Delete the cache entries (and torn temporary files) not read for `older_than` seconds; return
    how many."""
    cutoff, removed = time.time() - older_than, 0
    for entry in [*folder.glob("*.pickle"), *folder.glob("*.tmp")]:
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except OSError:
            pass  # another process pruned or replaced it first
    return removed


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a schema file: where (file, line, key path) and what."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        return f"{where}, {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CatalogError(ValueError):
    """A schema file is malformed. Raised from a file model it names the file, the key path and the
    line of each problem (`problems`; `file`, `path`, `line` are the first one's)."""

    def __init__(self, message: str | None = None, problems: Sequence[Problem] = ()) -> None:
        self.problems = tuple(problems)
        if message is None:
            lines = [str(p) for p in self.problems]
            message = lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n  " + "\n  ".join(lines)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:  # keep the problems across processes
        return (type(self), (str(self), self.problems))

    @property
    def file(self) -> str | None:
        return self.problems[0].file if self.problems else None

    @property
    def path(self) -> str | None:
        return self.problems[0].path if self.problems else None

    @property
    def line(self) -> int | None:
        return self.problems[0].line if self.problems else None


class Spec(BaseModel):
    """Base of the file models: strict types (no '10' for 10, no 'ten' for a number), no unknown
    keys, immutable once read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def reference_problems(problems: Iterable[tuple[Loc, str]]) -> None:
    """Raise, from a model validator, the cross-reference problems found (key path from the file's
    top, message). They reach CatalogError with their own key paths and lines."""
    found = list(problems)
    if found:
        raise PydanticCustomError(REFERENCE_ERROR, "{summary}", {"summary": found[0][1], "problems": found})


class InAnotherFile(Exception):  # noqa: N818 - not an error of its own: carries one
    """A CatalogError of another file met while validating this one (a form an indicator reads, a
    source a view shows): raised through pydantic unchanged, so it names its own file and line."""

    def __init__(self, error: CatalogError) -> None:
        super().__init__(str(error))
        self.error = error


def load_other(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) from inside a validator: a CatalogError of that other file keeps its own file and line."""
    try:
        return fn(*args)
    except CatalogError as exc:
        raise InAnotherFile(exc) from exc


def root_of(context: Any) -> Path:
    """The schemas folder a model validates against (validation context `root`, else SCHEMAS)."""
    return Path(context["root"]) if isinstance(context, dict) and "root" in context else SCHEMAS


def cached(fn: F) -> F:
    """functools.cache keyed on the arguments with their defaults filled in, so `form('tt24', x)` and
    `form('tt24', x, root=SCHEMAS)` are one entry and one object (forms are cache keys by identity)."""
    inner = functools.cache(fn)
    sig = inspect.signature(fn)
    defaults = tuple(p.default for p in sig.parameters.values())
    required = sum(d is inspect.Parameter.empty for d in defaults)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not kwargs and required <= len(args) <= len(defaults):
            return inner(*args, *defaults[len(args) :])  # the common call, without binding
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return inner(*bound.args)

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    wrapper.cache_info = inner.cache_info  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def file_name(path: Path, root: Path) -> str:
    """How an error names a file: from the project root (schemas/forms/tt24/02-TH-DN.yaml)."""
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return str(path)


def read_yaml(path: Path, root: Path) -> Any:
    """A YAML file of the catalogue parsed (the C loader), or CatalogError naming the file and line."""
    try:
        return load_yaml(path)
    except FileNotFoundError as exc:
        raise CatalogError(f"{file_name(path, root)} not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise CatalogError(
            problems=[Problem(file_name(path, root), line, "", f"not valid YAML: {what}")]
        ) from exc


def read_file(model: type[M], path: Path, root: Path, context: dict[str, Any] | None = None) -> M:
    """A YAML file of the catalogue validated by its model, or CatalogError (file, key path, line)."""
    return validate(model, read_yaml(path, root), path, root, context)


def validate(model: type[M], data: Any, path: Path, root: Path, context: dict[str, Any] | None = None) -> M:
    try:
        return model.model_validate(data, context={"root": root, "path": path, **(context or {})})
    except ValidationError as exc:
        raise CatalogError(problems=problems_of(exc, model, path, root)) from None
    except InAnotherFile as exc:
        raise exc.error from None


def problems_of(exc: ValidationError, model: type[BaseModel], path: Path, root: Path) -> list[Problem]:
    """pydantic's errors as Problems: each `loc` becomes a key path and the line of that key."""
    node = _compose(path)
    out = []
    for err in exc.errors(include_url=False):
        if err["type"] == REFERENCE_ERROR:
            found = [(tuple(err["loc"]) + tuple(loc), msg) for loc, msg in err["ctx"]["problems"]]
        else:
            found = [(tuple(err["loc"]), _message(err, model))]
        for loc, msg in found:
            line, key_path = locate(node, loc)
            out.append(Problem(file_name(path, root), line, key_path, msg))
    return out


def problem_at(path: Path, root: Path, loc: Loc, message: str) -> CatalogError:
    """A CatalogError for one problem at a key path of a file (checks made outside a model)."""
    line, key_path = locate(_compose(path), loc)
    return CatalogError(problems=[Problem(file_name(path, root), line, key_path, message)])


def _compose(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError):
        return None


def locate(node: yaml.Node | None, loc: Loc) -> tuple[int | None, str]:
    """(line, key path) of a pydantic `loc` in a composed YAML file. The line is the deepest key or
    item the file holds (a missing key: the item it is missing from); parts of `loc` that name no key
    of the file (a missing key, a union member) still show in the key path, `[key]` does not."""
    line = node.start_mark.line + 1 if node is not None else None
    shown: list[str | int] = []
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, yaml.MappingNode):
            hit = next((kv for kv in node.value if str(kv[0].value) == str(part)), None)
            if hit is not None:
                line, node = hit[0].start_mark.line + 1, hit[1]
                shown.append(part)
                continue
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
            shown.append(part)
            continue
        node = None
        shown.append(part)
    return line, key_path(shown)


def key_path(loc: Iterable[str | int]) -> str:
    """('rows', 12, 'relations', 0, 'check') → rows[12].relations[0].check."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[\w-]+", part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace('"', '\\"') + '"]'
    return out


def _message(err: Any, model: type[BaseModel]) -> str:
    kind, loc = err["type"], tuple(err["loc"])
    if kind == "extra_forbidden":
        allowed = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (
            f" (did you mean {close[0]!r}?)"
            if close
            else (f" (keys: {', '.join(allowed)})" if allowed else "")
        )
        return f"unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return f"missing item [{loc[-1]}]"
        return f"missing key {loc[-1]!r}" if loc else "missing"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind == "assertion_error":
        return str(err["ctx"]["error"]) or err["msg"]
    value = err.get("input")
    if isinstance(value, str | int | float | bool) or value is None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "…"
        return f"{err['msg']}, not {shown}"
    return err["msg"]


def _keys_at(model: Any, loc: Loc) -> list[str]:
    """The keys a model allows at a key path (for 'did you mean')."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    """X from Annotated[X, …] and X | None."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
