"""The reader baseline (knowledge/eval/real/reader.yaml): its coverage, its loader and its
scoring. Only the dev split is read here; the held-out split has no reader file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import KnowledgeBase
from knowledge.evaluation import ItemKind, RealItem, Split, load_real
from knowledge.reader import (
    READER_FILE,
    ReaderPick,
    article_sheet,
    load_reader,
    question_sheet,
    score_reader,
)


def test_reader_covers_exactly_the_dev_questions(real_kb: KnowledgeBase) -> None:
    """One row per dev question, no other id, and only existing articles picked."""
    rows = load_reader(real_kb)
    dev_questions = {
        item.id for item in load_real(real_kb, Split.DEV) if item.kind is ItemKind.QUESTION
    }
    ids = [row.id for row in rows]
    assert len(set(ids)) == len(ids)
    assert {row.id for row in rows} == dev_questions
    assert len(rows) == len(dev_questions)
    assert all(pick in real_kb.articles for row in rows for pick in row.picks)
    assert all(len(row.picks) == 3 for row in rows)


def _write(root: Path, rows: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / READER_FILE).write_text(yaml.safe_dump(rows), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([{"id": "a-1", "picks": ["no-such-article"], "clear": True}], "unknown article"),
        ([{"id": "a-1", "picks": [], "clear": True}], "picks"),
        ([{"id": "a-1", "picks": ["x", "x"], "clear": True}], "picks"),
        ([{"id": "a-1", "picks": ["a", "b", "c", "d"], "clear": True}], "picks"),
        ([{"id": "a-1", "picks": ["check-credentials"], "clear": "yes"}], "clear"),
        ([{"id": "a-1", "picks": ["check-credentials"]}], "needs id, picks, clear"),
        (
            [
                {"id": "a-1", "picks": ["check-credentials"], "clear": True},
                {"id": "a-1", "picks": ["check-credentials"], "clear": False},
            ],
            "duplicate",
        ),
        ({"id": "a-1"}, "list"),
    ],
)
def test_load_reader_rejects_bad_rows(
    tmp_path: Path, real_kb: KnowledgeBase, rows: object, reason: str
) -> None:
    with pytest.raises(KnowledgeError, match=reason):
        load_reader(real_kb, _write(tmp_path, rows))


def _item(
    item_id: str, text: str, ok: tuple[str, ...], kind: ItemKind = ItemKind.QUESTION
) -> RealItem:
    return RealItem(item_id, kind, text, ok)


ITEMS = (
    _item("q-1", "one", ("a",)),
    _item("q-2", "two", ("b", "c")),
    _item("q-3", "three", ("d",)),
    _item("q-4", "four", ("e",)),
    _item("e-1", "a paste", ("a",), ItemKind.ERROR),
)


def test_score_reader_counts_reader_and_search_apart() -> None:
    reader = (
        ReaderPick("q-1", ("a", "x", "y"), clear=True),  # top-1 hit
        ReaderPick("q-2", ("x", "c", "y"), clear=True),  # top-3 hit only
        ReaderPick("q-3", ("x", "y", "z"), clear=False),  # miss
        ReaderPick("q-4", ("e",), clear=False),  # top-1 hit
    )
    answers = {"one": ["a"], "two": ["x", "b"], "three": ["d"], "four": ["x"]}
    score = score_reader(ITEMS, reader, lambda q: answers[q])
    assert (score.top1, score.top3, score.unclear) == (0.5, 0.75, 0.5)
    assert (score.clear_count, score.unclear_count) == (2, 2)
    assert score.ours_clear_top1 == 0.5  # q-1 hit, q-2 miss
    assert score.ours_unclear_top1 == 0.5  # q-3 hit, q-4 miss


def test_score_reader_needs_exactly_the_questions() -> None:
    partial = (ReaderPick("q-1", ("a",), clear=True),)
    with pytest.raises(KnowledgeError, match="cover exactly"):
        score_reader(ITEMS, partial, lambda q: [])
    extra = (*(ReaderPick(i, ("a",), clear=True) for i in ("q-1", "q-2", "q-3", "q-4", "e-1")),)
    with pytest.raises(KnowledgeError, match="cover exactly"):
        score_reader(ITEMS, extra, lambda q: [])


def test_question_sheet_shows_only_id_and_text(tmp_path: Path) -> None:
    labelled = {
        "kind": "question",
        "source": "https://example.com/thread",
        "stack": "nodemailer",
        "provider": "gmail",
        "cause": "THE-CAUSE",
        "fix": "THE-FIX",
        "ok": ["app-passwords"],
    }
    items = [
        {"id": "c9-001", "text": "why does it fail", **labelled},
        {"id": "c9-002", "text": "535 paste", **labelled, "kind": "error"},
    ]
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(items), encoding="utf-8")
    (tmp_path / "test.yaml").write_text("not: [read", encoding="utf-8")  # never opened
    assert question_sheet(tmp_path) == [{"id": "c9-001", "text": "why does it fail"}]


def test_article_sheet_lists_every_article(kb: KnowledgeBase) -> None:
    sheet = article_sheet(kb)
    assert [row[0] for row in sheet] == sorted(kb.articles)
    assert all(title and summary and "\n" not in summary for _, title, summary in sheet)
