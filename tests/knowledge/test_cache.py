"""The knowledge cache: same results as loading, invalidated by any data or source change,
and never a failure (corrupt, foreign, unsafe or unwritable: load from the sources)."""

from __future__ import annotations

import dataclasses
import importlib
import os
import pickle
import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, cache, load_knowledge, search
from knowledge.cache import CACHE_ENV, cache_dir, fingerprint
from knowledge.loader import DEFAULT_ROOT
from tests.knowledge.conftest import FIXTURE_ROOT

engine = importlib.import_module("knowledge.search")  # the module; ``search`` is the function
QUESTIONS = (
    "which port should I use",
    "my account is locked",
    "535 5.7.8 Username and Password not accepted",
    "outlook keeps asking for my password",
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def _results(kb: KnowledgeBase) -> list[object]:
    return [search(kb, question).as_dict() for question in QUESTIONS]


def _fresh() -> KnowledgeBase:
    return load_knowledge(FIXTURE_ROOT, index=False)


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "smtpcheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "smtpcheck"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"
    monkeypatch.setenv(CACHE_ENV, "")
    assert cache_dir() is None  # turned off: nothing is read or written
    cache.store("knowledge", "k", _fresh())
    assert cache.load("knowledge", "k", KnowledgeBase) is None


def test_fingerprint_follows_every_data_file_and_source(tmp_path: Path) -> None:
    """Editing, adding or renaming a data file or a knowledge source changes the key."""
    data, sources = tmp_path / "data", tmp_path / "src"
    shutil.copytree(FIXTURE_ROOT, data)
    sources.mkdir()
    (sources / "loader.py").write_text("X = 1\n")
    first = fingerprint(data, sources)
    assert fingerprint(data, sources) == first
    replies = data / "replies.yaml"
    original = replies.read_bytes()
    replies.write_bytes(original + b"\n# a comment\n")
    assert fingerprint(data, sources) != first
    replies.write_bytes(original)
    assert fingerprint(data, sources) == first
    (sources / "loader.py").write_text("X = 2\n")
    assert fingerprint(data, sources) != first
    (sources / "loader.py").write_text("X = 1\n")
    (data / "articles" / "new.yaml").write_text("x")
    assert fingerprint(data, sources) != first
    (data / "articles" / "new.yaml").rename(data / "articles" / "other.yaml")
    second = fingerprint(data, sources)
    assert second != first
    (data / "articles" / "other.yaml").unlink()
    assert fingerprint(data, sources) == first


def test_the_default_key_covers_the_package_sources() -> None:
    assert Path(cache.__file__).resolve().parent == cache.SOURCES
    assert (cache.SOURCES / "loader.py").is_file() and (cache.SOURCES / "search.py").is_file()
    assert len(fingerprint(DEFAULT_ROOT)) == 32


def test_a_cached_knowledge_base_and_index_search_like_fresh_ones(folder: Path) -> None:
    kb = _fresh()
    engine.warm_up(kb, cache_key="k1")  # builds and stores the index
    cache.store("knowledge", "k1", kb)
    assert {p.name for p in folder.iterdir()} == {"knowledge-k1.pickle", "search-k1.pickle"}
    loaded = cache.load("knowledge", "k1", KnowledgeBase)
    assert loaded is not None and loaded is not kb
    assert loaded.articles == kb.articles and loaded.providers == kb.providers
    assert [r.pattern.pattern for r in loaded.replies] == [r.pattern.pattern for r in kb.replies]
    engine.warm_up(loaded, cache_key="k1")  # adopts the stored index
    index = engine._index(loaded)
    assert all(a is b for a, b in zip(index.articles, loaded.articles.values(), strict=True))
    assert _results(loaded) == _results(kb)


def test_only_the_newest_files_are_kept(folder: Path) -> None:
    """A few versions live side by side (two checkouts do not evict each other); the
    oldest files go."""
    kb = _fresh()
    for index in range(cache.KEEP + 2):
        cache.store("knowledge", f"k{index}", kb)
        os.utime(folder / f"knowledge-k{index}.pickle", (1000 + index, 1000 + index))
    cache.store("knowledge", "newest", kb)
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == cache.KEEP and "knowledge-newest.pickle" in kept
    assert "knowledge-k0.pickle" not in kept and "knowledge-k1.pickle" not in kept
    assert cache.load("knowledge", "k0", KnowledgeBase) is None
    assert cache.load("knowledge", f"k{cache.KEEP + 1}", KnowledgeBase) is not None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b"smtpcheck-knowledge-cache\n",
        b"smtpcheck-knowledge-cache\n" + pickle.dumps("text"),  # not a knowledge base
        b"smtpcheck-knowledge-cache\n" + pickle.dumps(["x"])[:-3],  # truncated
        pickle.dumps({"no": "magic"}),
    ],
)
def test_a_corrupt_file_is_ignored_then_replaced(folder: Path, content: bytes) -> None:
    folder.mkdir(mode=0o700)
    path = folder / "knowledge-k.pickle"
    path.write_bytes(content)
    path.chmod(0o600)
    assert cache.load("knowledge", "k", KnowledgeBase) is None
    cache.store("knowledge", "k", _fresh())
    assert isinstance(cache.load("knowledge", "k", KnowledgeBase), KnowledgeBase)


def test_an_index_for_other_articles_is_rebuilt(folder: Path) -> None:
    """An index file whose article references do not resolve is not adopted: rebuilt."""
    kb = _fresh()
    engine.warm_up(kb, cache_key="k")
    assert cache.load("search", "k", object, articles={}) is None
    fewer = dict(list(kb.articles.items())[1:])
    other = dataclasses.replace(kb, articles=fewer)
    engine.warm_up(other, cache_key="k")
    assert len(engine._index(other).articles) == len(fewer)
    rebuilt = dataclasses.replace(kb, articles=fewer)
    assert _results(other) == _results(rebuilt)


def test_files_others_could_write_are_not_read(folder: Path) -> None:
    kb = _fresh()
    cache.store("knowledge", "k", kb)
    path = folder / "knowledge-k.pickle"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    path.chmod(0o666)
    assert cache.load("knowledge", "k", KnowledgeBase) is None
    path.chmod(0o600)
    folder.chmod(0o777)
    assert cache.load("knowledge", "k", KnowledgeBase) is None
    folder.chmod(0o700)
    assert cache.load("knowledge", "k", KnowledgeBase) is not None


def test_an_unwritable_cache_is_no_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache directory that cannot be created (here: below a plain file) costs nothing."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    kb = _fresh()
    cache.store("knowledge", "k", kb)
    engine.warm_up(kb, cache_key="k")
    assert cache.load("knowledge", "k", KnowledgeBase) is None
    assert search(kb, QUESTIONS[0]).answers
    assert list(tmp_path.iterdir()) == [blocker]


def test_no_temporary_file_is_left_when_the_write_fails(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: str) -> None:
        raise PermissionError(target)

    monkeypatch.setattr(os, "replace", refuse)
    cache.store("knowledge", "k", _fresh())
    assert list(folder.iterdir()) == []


def test_patterns_come_back_as_the_same_matchers(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored with their matcher code (no recompiling), or, when that is not possible,
    as source and flags: either way equal patterns (flags, source and code)."""
    kb = load_knowledge(index=False)  # the real data: every kind of pattern it has
    cache.store("knowledge", "fast", kb)
    fast = cache.load("knowledge", "fast", KnowledgeBase)
    assert fast is not None
    assert [r.pattern for r in fast.replies] == [r.pattern for r in kb.replies]
    assert [r.evidence for r in fast.replies] == [r.evidence for r in kb.replies]
    assert b"_pattern" in (folder / "knowledge-fast.pickle").read_bytes()

    def no_internals(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(cache, "import_module", no_internals)
    cache.store("knowledge", "plain", kb)
    monkeypatch.undo()
    monkeypatch.setenv(CACHE_ENV, str(folder))
    plain = cache.load("knowledge", "plain", KnowledgeBase)
    assert plain is not None
    assert [r.pattern for r in plain.replies] == [r.pattern for r in kb.replies]
    assert b"_pattern" not in (folder / "knowledge-plain.pickle").read_bytes()
