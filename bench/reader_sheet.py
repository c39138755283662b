"""Print what the human reader of ``knowledge/eval/real/reader.yaml`` may look at.

    python bench/reader_sheet.py questions   # id and text of every dev question, nothing else
    python bench/reader_sheet.py articles    # id, title and summary of every article

The reader baseline (see knowledge/eval/real/README.md) is a judgement made from the
question text and the article list alone, so ``questions`` prints no label (``ok``),
no ``cause``, ``fix``, ``source``, ``provider`` or ``stack``, and only ever reads the
dev split: the held-out test split is never opened here (knowledge.reader).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge import get_knowledge
from knowledge.reader import article_sheet, question_sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sheet", choices=("questions", "articles"))
    args = parser.parse_args()
    if args.sheet == "questions":
        for row in question_sheet():
            sys.stdout.write(f"=== {row['id']}\n{row['text']}\n\n")
    else:
        for article_id, title, summary in article_sheet(get_knowledge()):
            sys.stdout.write(f"{article_id}: {title}\n    {summary}\n\n")


if __name__ == "__main__":
    main()
