"""A compiled copy of the default knowledge base and its search index, in the user's cache.

Loading the knowledge (about 55 YAML files, every entry validated, ~200 reply patterns
compiled) and building the search index costs about 0.1 s, on every CLI start. Both
results are pickled once into the user's cache directory and read back in a few
milliseconds by the next process. Each file is named after a fingerprint of what
produced it: every file of the data folder, every ``knowledge/*.py`` source and the
Python version (``fingerprint``); change any of them and the old file is simply not
found, so a stale copy is never used.

Compiled regular expressions are stored with the matcher code the ``re`` compiler made
for them (``_pattern_form``) and rebuilt from it by ``_sre.compile`` in microseconds
instead of parsed and compiled again (~25 ms for the ~300 of the knowledge base); each
stored form is checked equal (same flags, pattern and code) to the original when it is
written, and the interpreter version is part of the fingerprint, so the code always
comes from the same ``re`` that reads it. A pattern that cannot be stored that way is
pickled as usual (recompiled on load).

Nothing here can make a command fail: an unwritable or missing directory, a file that
is corrupt, truncated, of another type, not ours or writable by others is ignored (and
replaced when possible), and the knowledge is loaded from its sources as before.

The directory is ``$SMTPCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/smtpcheck``, else
``~/.cache/smtpcheck``; ``SMTPCHECK_CACHE_DIR=`` (empty) turns the cache off.
"""

from __future__ import annotations

import contextlib
import copyreg
import hashlib
import io
import os
import pickle
import re
import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

CACHE_ENV: Final = "SMTPCHECK_CACHE_DIR"
SOURCES: Final = Path(__file__).resolve().parent  # knowledge/*.py
PROTOCOL: Final = 5
_MAGIC: Final = b"smtpcheck-knowledge-cache\n"
_UNSAFE_MODE: Final = 0o022  # group- or world-writable: someone else could plant a pickle
_ARTICLE: Final = "article"
# Files kept per kind: a few versions side by side (two checkouts, a rollback) do not
# keep evicting each other; older ones go.
KEEP: Final = 4

T = TypeVar("T")


def cache_dir() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smtpcheck"


def fingerprint(data_root: Path, sources: Path = SOURCES) -> str:
    """A hash of every data file (name and bytes), every ``*.py`` in ``sources`` and the
    interpreter: anything that could change what loading produces."""
    digest = hashlib.sha256()
    digest.update(f"{sys.implementation.cache_tag} {sys.version} {PROTOCOL}\n".encode())
    files = [("data", path) for path in data_root.rglob("*") if path.is_file()]
    files += [("src", path) for path in sources.glob("*.py")]
    for kind, path in sorted(files, key=lambda item: (item[0], item[1].as_posix())):
        name = path.relative_to(data_root if kind == "data" else sources).as_posix()
        content = path.read_bytes()
        digest.update(f"{kind}:{name}:{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()[:32]


def _proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Callable[..., Any], tuple[Any]]:
    return _proxy, (dict(proxy),)


def _pattern(*form: Any) -> re.Pattern[Any]:
    """A compiled pattern from the form ``_pattern_form`` stored (CPython's own last step
    of ``re.compile``)."""
    built: re.Pattern[Any] = import_module("_sre").compile(*form)
    return built


def _pattern_form(pattern: re.Pattern[Any]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """How to pickle ``pattern``: its matcher code when that rebuilds it exactly, else
    its source and flags (what pickle does by default: recompiled on load)."""
    try:
        parser, compiler = import_module("re._parser"), import_module("re._compiler")
        parsed = parser.parse(pattern.pattern, pattern.flags)
        code = [int(op) for op in compiler._code(parsed, pattern.flags)]  # plain ints pickle
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        form = (
            pattern.pattern,
            pattern.flags | parsed.state.flags,
            code,
            parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )
    except Exception:  # another re than this module knows: the plain way
        return re.compile, (pattern.pattern, pattern.flags)
    if _pattern(*form) != pattern:  # not the same flags, source and code: the plain way
        return re.compile, (pattern.pattern, pattern.flags)
    return _pattern, form


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (MappingProxyType) as what they wrap; with ``articles``,
    writes those objects as references by id, read back from the knowledge base."""

    def __init__(self, file: io.BytesIO, articles: Mapping[int, str] | None = None) -> None:
        super().__init__(file, protocol=PROTOCOL)
        self.dispatch_table = {
            **copyreg.dispatch_table,
            MappingProxyType: _reduce_proxy,
            re.Pattern: _pattern_form,
        }
        self._articles = articles or {}

    def persistent_id(self, obj: Any) -> Any:
        article_id = self._articles.get(id(obj))
        return None if article_id is None else (_ARTICLE, article_id)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, articles: Mapping[str, object] | None) -> None:
        super().__init__(file)
        self._articles = articles or {}

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == _ARTICLE):
            raise pickle.UnpicklingError("unknown persistent id")
        return self._articles[pid[1]]


def _path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{kind}-{key}.pickle"


def load(
    kind: str, key: str, expected: type[T], *, articles: Mapping[str, object] | None = None
) -> T | None:
    """The object stored as ``kind`` under ``key`` if it is there, sound and an
    ``expected``; None otherwise (never an exception)."""
    path = _path(kind, key)
    if path is None:
        return None
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & _UNSAFE_MODE:
                return None
            if path.parent.stat().st_mode & _UNSAFE_MODE:
                return None
            blob = file.read()
    except OSError:
        return None
    if not blob.startswith(_MAGIC):
        return None
    try:
        # A file in the user's own cache directory, owned by the user and writable by no
        # one else, written by ``store`` below: as trusted as the code that reads it.
        found = _Unpickler(io.BytesIO(blob[len(_MAGIC) :]), articles).load()
    except Exception:  # corrupt, truncated, or pickled by other code: rebuild
        return None
    return found if isinstance(found, expected) else None


def store(kind: str, key: str, value: object, *, articles: Mapping[int, str] | None = None) -> None:
    """Write ``value`` as ``kind`` under ``key`` (atomically), keeping only the ``KEEP``
    newest files of that kind; silently nothing when the directory cannot be written."""
    path = _path(kind, key)
    if path is None:
        return
    buffer = io.BytesIO()
    buffer.write(_MAGIC)
    try:
        _Pickler(buffer, articles).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return  # not picklable after a code change: the cache just stays empty
    import tempfile  # only when writing: a warm start never does

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(buffer.getvalue())
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        _prune(path.parent, kind)
    except OSError:
        return


def _prune(folder: Path, kind: str) -> None:
    def age(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    files = sorted(folder.glob(f"{kind}-*.pickle"), key=age, reverse=True)
    for old in files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
