"""Quality gates on the real knowledge base: the project's own sets and the held-out real corpus.

The real corpus gates run on the held-out ``test`` split and report aggregate figures
only: printing its misses would show the items, and nothing may be tuned on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import KnowledgeBase, explain_reply, search
from knowledge.evaluation import (
    EVAL_ROOT,
    REAL_FIELDS,
    ItemKind,
    Split,
    load_questions,
    load_real,
    load_replies,
    plain_bm25,
    real_questions,
    score_explain,
    score_explain_real,
    score_search,
)

TOP1 = 0.90
TOP3 = 0.97
EXPLAIN = 0.95
# Targets of issue 14 on the held-out split.
REAL_EXPLAIN = 0.92
REAL_TOP1 = 0.90
REAL_TOP3 = 0.98
OVER_BM25 = 0.15
# What the held-out split reached on 2026-12-02, second session (explain 0.808, ask 0.681 /
# 0.913), less two points: a regression gate while the targets above are still open. Raised
# from the figures earlier rounds landed with (0.795, 0.652 / 0.783; 0.808, 0.638 / 0.870);
# never lowered.
FLOORS = {"explain": 0.788, "top1": 0.66, "top3": 0.89}
# Explain top-1 on the wild pastes (eval/real/wild.yaml, tuning material) when the floor was
# set, less two points: 2026-12-01 0.882 on 51 pastes; 2026-12-02 0.933 on 105; third session
# 0.899 on 179 (74 new pastes from other stacks, 0.784 on them as collected: the set grew
# harder, the 105 it held score as before); sixth session 0.906 on 203 (24 new pastes,
# 0.833 on them as collected).
WILD_EXPLAIN_FLOOR = 0.886
# Explain top-1 on what mail programs print (eval/real/programs.yaml, from their source code,
# tuning material) when the floor was set, less two points: seventh session 0.958 on 260
# wordings (0.788 on them as collected), then 0.913 on 436 (176 more from web apps,
# self-hosted services, sending services and system mailers; 0.62 on them as collected),
# then 0.899 on 622 (186 more libraries, servers, mail apps and business apps; 0.66 as
# collected), then 0.876 on 790 (168 runtime network and TLS texts and translations;
# 0.68 as collected); ninth session 0.913 on the same 790 (unreachable networks, STARTTLS
# not offered and TLS versions lead with the article their labels accept most often);
# tenth session 0.934 on the same 790, then three more rounds: 0.924 on 1010 (220 devices,
# web apps, mail programs, providers; 0.61 as collected), 0.926 on 1264 (254 localized
# runtime errors, servers, business apps, translations; 0.64), 0.914 on 1510 (246 CMS and
# framework wrappers, mail apps, system and home tools, dev tools; 0.67).
PROGRAMS_EXPLAIN_FLOOR = 0.894
# Ask on the fresh questions (eval/real/fresh.yaml: never indexed, never tuned on) as
# collected in the eighth session, 0.523 / 0.779 on 86, less two points. Like the held-out
# split, its misses are never printed.
FRESH_FLOORS = {"top1": 0.50, "top3": 0.76}


@pytest.mark.skipif(not (EVAL_ROOT / "questions.yaml").exists(), reason="no eval questions yet")
def test_search_quality(real_kb: KnowledgeBase) -> None:
    """Top-1 >= 0.90 and top-3 >= 0.97 on the labelled questions."""
    questions = load_questions(real_kb)
    assert len(questions) >= 80
    result = score_search(
        questions, lambda q: [a.article.id for a in search(real_kb, q, limit=3).answers]
    )
    misses = "\n".join(f"{q!r} -> {got}" for q, got in result.misses)
    assert result.top1 >= TOP1, f"top-1 {result.top1:.3f}; misses:\n{misses}"
    assert result.top3 >= TOP3, f"top-3 {result.top3:.3f}; misses:\n{misses}"


@pytest.mark.skipif(not (EVAL_ROOT / "replies.yaml").exists(), reason="no eval replies yet")
def test_explain_quality(real_kb: KnowledgeBase) -> None:
    """The first match is the labelled reply for at least 95% of the labelled reply texts."""
    replies = load_replies(real_kb)
    assert len(replies) >= 40
    assert score_explain(real_kb, replies) >= EXPLAIN


def _held_out_figures(kb: KnowledgeBase) -> dict[str, float]:
    """Aggregates only (floats): never the score objects, which hold the misses."""
    items = load_real(kb, Split.TEST)
    assert sum(item.kind is ItemKind.ERROR for item in items) >= 50
    questions = real_questions(items)
    assert len(questions) >= 50
    ours = score_search(questions, lambda q: [a.article.id for a in search(kb, q).answers])
    base = score_search(questions, plain_bm25(kb))
    return {
        "explain": float(score_explain_real(kb, items).top1),
        "top1": float(ours.top1),
        "top3": float(ours.top3),
        "bm25": float(base.top1),
    }


@pytest.fixture(scope="module")
def held_out(real_kb: KnowledgeBase) -> dict[str, float]:
    return _held_out_figures(real_kb)


def test_held_out_does_not_regress(held_out: dict[str, float]) -> None:
    """On the held-out split, no figure falls below what was reached on 2026-12-02
    (explain 0.808, ask 0.681 / 0.913), less two points of slack."""
    for name, floor in FLOORS.items():
        assert held_out[name] >= floor, f"held-out {name} {held_out[name]:.3f} < {floor}"


@pytest.mark.xfail(strict=True, reason="issue 14's held-out targets are not reached yet")
def test_held_out_meets_the_targets(held_out: dict[str, float]) -> None:
    """Explain top-1 >= 0.92; ask top-1 >= 0.90, top-3 >= 0.98 and 15 points above BM25.

    Strict: the day the targets are met this test passes, which fails the suite until the
    xfail mark is removed, so the gate cannot stay switched off by accident."""
    assert held_out["explain"] >= REAL_EXPLAIN
    assert held_out["top1"] >= REAL_TOP1
    assert held_out["top3"] >= REAL_TOP3
    assert held_out["top1"] >= held_out["bm25"] + OVER_BM25


def test_wild_explain_does_not_regress(real_kb: KnowledgeBase) -> None:
    """Wild is tuning material, so its misses may be listed (never the held-out ones)."""
    score = score_explain_real(real_kb, load_real(real_kb, Split.WILD))
    assert score.top1 >= WILD_EXPLAIN_FLOOR, f"wild explain {score.top1:.3f}; misses {score.misses}"


def test_programs_explain_does_not_regress(real_kb: KnowledgeBase) -> None:
    score = score_explain_real(real_kb, load_real(real_kb, Split.PROGRAMS))
    assert score.top1 >= PROGRAMS_EXPLAIN_FLOOR, (
        f"programs explain {score.top1:.3f}; misses {score.misses}"
    )


def test_fresh_questions_do_not_regress(real_kb: KnowledgeBase) -> None:
    """Aggregates only, as for the held-out split: the fresh set is not tuning material."""
    questions = real_questions(load_real(real_kb, Split.FRESH))
    assert len(questions) >= 80
    ours = score_search(questions, lambda q: [a.article.id for a in search(real_kb, q).answers])
    figures = {"top1": float(ours.top1), "top3": float(ours.top3)}
    for name, floor in FRESH_FLOORS.items():
        assert figures[name] >= floor, f"fresh {name} {figures[name]:.3f} < {floor}"


def _write(root: Path, items: list[dict[str, object]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dev.yaml").write_text(yaml.safe_dump(items), encoding="utf-8")


def _item(**changes: object) -> dict[str, object]:
    item: dict[str, object] = dict.fromkeys(REAL_FIELDS, "x")
    item.update(id="c9-001", kind="error", text="535 5.7.8 nope", ok=["check-credentials"])
    item.update(changes)
    return item


def test_real_loader_reads_items(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A valid split loads into items with their kind and acceptable ids."""
    _write(tmp_path, [_item(), _item(id="c9-002", kind="question", text="why?")])
    items = load_real(real_kb, Split.DEV, tmp_path)
    assert [(i.id, i.kind) for i in items] == [("c9-001", "error"), ("c9-002", "question")]
    assert real_questions(items)[0].acceptable == {"check-credentials"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ok": ["no-such-article"]}, "unknown article no-such-article"),
        ({"ok": []}, "ok must list"),
        ({"kind": "rant"}, "unknown kind"),
        ({"text": ""}, "text must be"),
    ],
)
def test_real_loader_fails_loudly(
    real_kb: KnowledgeBase, tmp_path: Path, changes: dict[str, object], reason: str
) -> None:
    """An item naming a missing article (or malformed) fails the load; it is never skipped."""
    _write(tmp_path, [_item(), _item(id="c9-002", **changes)])
    with pytest.raises(KnowledgeError, match=reason):
        load_real(real_kb, Split.DEV, tmp_path)


def test_real_loader_needs_every_field(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A missing field (here the source) is an error naming the field."""
    item = _item()
    del item["source"]
    _write(tmp_path, [item])
    with pytest.raises(KnowledgeError, match="missing source"):
        load_real(real_kb, Split.DEV, tmp_path)


def test_real_explain_counts_first_article_of_first_match(
    real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """Explain top-1 is the first match's first article; later articles do not count."""
    gmail = "535-5.7.8 Username and Password not accepted.\n535 5.7.8 BadCredentials - gsmtp"
    shown = explain_reply(real_kb, gmail)[0].articles
    _write(
        tmp_path,
        [
            _item(id="c9-001", text=gmail, ok=[shown[0]]),
            _item(id="c9-002", text=gmail, ok=[shown[1]]),
            _item(id="c9-003", text="hello there", ok=[shown[0]]),
        ],
    )
    score = score_explain_real(real_kb, load_real(real_kb, Split.DEV, tmp_path))
    assert score.top1 == pytest.approx(1 / 3)
    assert [item_id for item_id, _ in score.misses] == ["c9-002", "c9-003"]
