"""asked.yaml is tuning material: none of it may come from the real corpus's threads.

The real-world corpus is split by a hash of each item's source (``eval/real/README.md``);
a question taken from a held-out thread would leak the test split into the index. So
every asked.yaml source must hash into the dev range and must not be a corpus thread at
all (in any URL spelling). ``test.yaml`` is read for its ``source`` fields only, to test
membership; failures report counts, never items.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from knowledge.asked import ASKED_FILE
from knowledge.evaluation import REAL_ROOT
from knowledge.loader import DEFAULT_ROOT

HELD_OUT_BELOW = 40  # int(sha1(source)) % 100 < 40 is the held-out test split
_STACK = re.compile(r"https?://[^/]+/(?:questions|q|a)/(\d+)")


def thread_key(url: str) -> str:
    """One spelling per thread: no scheme, fragment, query, trailing slash or case; a Stack
    Exchange question by site and number only (the slug and answer anchors vary)."""
    url = url.strip().split("#", 1)[0]
    stack = _STACK.match(url)
    host = url.split("://", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")
    if stack:
        return f"{host}/q/{stack.group(1)}"
    rest = url.split("://", 1)[-1].split("?", 1)[0].rstrip("/").lower()
    return rest.removeprefix("www.")


def _hash(source: str) -> int:
    # the corpus split rule (eval/real/README.md), not a security use
    return int(hashlib.sha1(source.encode()).hexdigest(), 16) % 100  # noqa: S324


def _sources(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [str(item["source"]) for item in data if isinstance(item, dict) and "source" in item]


def test_asked_sources_are_never_held_out_or_corpus_threads() -> None:
    asked = _sources(DEFAULT_ROOT / ASKED_FILE)
    assert len(asked) >= 1
    held_out = sum(_hash(source) < HELD_OUT_BELOW for source in asked)
    corpus = {
        thread_key(s) for name in ("dev.yaml", "test.yaml") for s in _sources(REAL_ROOT / name)
    }
    shared = sum(thread_key(source) in corpus for source in asked)
    assert (held_out, shared) == (0, 0), (
        f"{held_out} asked.yaml source(s) hash into the held-out split and {shared} are "
        "threads of the real corpus; use other threads"
    )


def test_thread_key_merges_spellings_of_one_thread() -> None:
    same = {
        thread_key("https://stackoverflow.com/questions/123/some-slug"),
        thread_key("https://stackoverflow.com/a/123"),
        thread_key("http://www.StackOverflow.com/questions/123?noredirect=1#comment9"),
    }
    assert same == {"stackoverflow.com/q/123"}
    assert thread_key("https://github.com/o/r/issues/5#issuecomment-1") == "github.com/o/r/issues/5"
    assert thread_key("https://github.com/o/r/issues/5/") != thread_key(
        "https://github.com/o/r/issues/6"
    )


def test_asked_threads_are_each_used_once() -> None:
    """One question per thread: parallel collectors once wrote 35 threads twice (some with
    different labels), which counted those threads double in the index."""
    keys = [thread_key(source) for source in _sources(DEFAULT_ROOT / ASKED_FILE)]
    assert len(keys) == len(set(keys)), f"{len(keys) - len(set(keys))} thread(s) used twice"


def test_fresh_questions_stay_out_of_the_index_and_the_corpus() -> None:
    """eval/real/fresh.yaml measures questions the index has never seen: none of its threads
    may be in asked.yaml (or later be added there), nor be a thread of another split."""
    fresh = {thread_key(source) for source in _sources(REAL_ROOT / "fresh.yaml")}
    assert len(fresh) >= 80
    asked = {thread_key(source) for source in _sources(DEFAULT_ROOT / ASKED_FILE)}
    others = {
        thread_key(s)
        for name in ("dev.yaml", "test.yaml", "wild.yaml")
        for s in _sources(REAL_ROOT / name)
    }
    assert (len(fresh & asked), len(fresh & others)) == (0, 0)
