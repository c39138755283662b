"""Print what the human reader of ``knowledge/eval/real/reader.yaml`` may look at.

    python bench/reader_sheet.py questions   # id and text of every dev question, nothing else
    python bench/reader_sheet.py articles    # id, title and summary of every article

The reader baseline (see knowledge/eval/real/README.md) is a judgement made from the
question text and the article list alone, so ``questions`` prints no label (``ok``),
no ``cause``, ``fix``, ``source``, ``provider`` or ``stack``, and only ever reads the
dev split: the held-out test split is never opened here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "knowledge" / "eval" / "real" / "dev.yaml"
ARTICLES = ROOT / "knowledge" / "data" / "articles"
SHOWN_QUESTION_FIELDS = ("id", "text")


def question_sheet(path: Path = DEV) -> list[dict[str, str]]:
    """The dev ``kind: question`` items reduced to ``id`` and ``text``."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        {name: str(item[name]) for name in SHOWN_QUESTION_FIELDS}
        for item in items
        if item.get("kind") == "question"
    ]


def article_sheet(folder: Path = ARTICLES) -> list[dict[str, str]]:
    """Every article's ``id``, ``title`` and ``summary``, sorted by id."""
    rows = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rows.append({name: " ".join(str(data[name]).split()) for name in ("id", "title", "summary")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sheet", choices=("questions", "articles"))
    args = parser.parse_args()
    if args.sheet == "questions":
        for row in question_sheet():
            sys.stdout.write(f"=== {row['id']}\n{row['text']}\n\n")
    else:
        for row in article_sheet():
            sys.stdout.write(f"{row['id']}: {row['title']}\n    {row['summary']}\n\n")


if __name__ == "__main__":
    main()
