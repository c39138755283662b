"""``smtpcheck ask | explain | discover``: the knowledge engines at a terminal, no Slack.

Exit codes: 0 an answer was found; 1 nothing found (no article, no known reply,
no candidate); 2 invalid input; 3 the knowledge data failed to load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any, Final

from bot.cli import EXIT_INVALID
from bot.config import Settings
from bot.errors import InputError, KnowledgeError
from knowledge.loader import get_knowledge

if TYPE_CHECKING:
    from knowledge.model import Discovery, KnowledgeBase, Match, SearchResult

# Engines are imported inside the command that needs them: `explain` never loads the
# search index or the DNS resolver, which is most of a start-up.

EXIT_FOUND: Final = 0
EXIT_NOTHING: Final = 1
EXIT_DATA: Final = 3
STEPS_SHOWN: Final = 3
DISCOVER_DEADLINE: Final = 5.0

_EXITS: Final = (
    "exit status: 0 found something, 1 found nothing, 2 invalid input, "
    "3 knowledge data failed to load"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ask``, ``explain`` and ``discover`` to the ``smtpcheck`` parser."""
    ask = subparsers.add_parser(
        "ask",
        help="answer a question from the knowledge base",
        description="Find the articles that answer a question, best first.",
        epilog=_EXITS,
    )
    ask.add_argument("question", help='the question, e.g. "outlook keeps asking for my password"')
    ask.add_argument("--limit", type=int, default=5, help="how many articles (default 5)")
    ask.add_argument("--json", action="store_true", help="machine-readable output")
    ask.set_defaults(handler=ask_command)

    explain = subparsers.add_parser(
        "explain",
        help="explain a pasted SMTP error",
        description="Explain SMTP replies, bounces, client dialogs or log lines. "
        'Give the text as an argument, or "-" (or nothing) to read it from standard input.',
        epilog=_EXITS + " (1: no known reply in the text; nothing is guessed)",
    )
    explain.add_argument("text", nargs="?", default="-", help='the error text, or "-" for stdin')
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.set_defaults(handler=explain_command)

    discover = subparsers.add_parser(
        "discover",
        help="find the sending server for an address or domain",
        description="Find the provider and the submission servers for an email address or "
        "domain (provider table, DNS SRV records, MX records), best first. "
        "Uses SMTPCHECK_DNS_SERVERS.",
        epilog=_EXITS,
    )
    discover.add_argument("target", metavar="EMAIL_OR_DOMAIN")
    discover.add_argument("--json", action="store_true", help="machine-readable output")
    discover.set_defaults(handler=discover_command)


def knowledge_base(*, index: bool = False) -> KnowledgeBase | None:
    """The knowledge base, or None after one line on stderr (the caller exits ``EXIT_DATA``).

    ``index`` builds the search index too (only ``ask`` searches)."""
    try:
        return get_knowledge(index=index)
    except KnowledgeError as exc:
        print(f"smtpcheck: knowledge data is invalid: {exc}", file=sys.stderr)
        return None


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def ask_command(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.search import search

    kb = knowledge_base(index=True)
    if kb is None:
        return EXIT_DATA
    if not 1 <= args.limit <= 20:
        print("smtpcheck: --limit must be between 1 and 20", file=sys.stderr)
        return EXIT_INVALID
    result = search(kb, args.question, limit=args.limit)
    if args.json:
        _print_json(result.as_dict())
    else:
        print(_render_answers(kb, result))
    return EXIT_FOUND if result.answers else EXIT_NOTHING


def _render_answers(kb: KnowledgeBase, result: SearchResult) -> str:
    from knowledge.search import CONFIDENCE_FLOOR

    if not result.answers:
        return "No article matches that question. Try other words, or paste the exact error."
    best = result.answers[0].article
    lines = []
    if result.confidence < CONFIDENCE_FLOOR:
        lines.append("Not sure this is what you asked; the closest articles are:")
    lines += [f"{best.title}  [{best.id}]", "", best.summary, ""]
    steps = best.steps_for(result.provider, result.client)
    lines += [f"{number:>2}. {step}" for number, step in enumerate(steps[:STEPS_SHOWN], start=1)]
    if len(steps) > STEPS_SHOWN:
        lines.append(f"    ({len(steps) - STEPS_SHOWN} more step(s) in the article)")
    if len(result.answers) > 1:
        lines += ["", "Also:"]
        lines += [f"  - {a.article.title}  [{a.article.id}]" for a in result.answers[1:]]
    for match in result.matches:
        lines += ["", "Recognised error: " + _match_line(match)]
    return "\n".join(lines)


def _match_line(match: Match) -> str:
    code = " ".join(str(part) for part in (match.code, match.enhanced) if part)
    provider = f" ({match.provider})" if match.provider else ""
    return f"{code or 'no code'}{provider}: {match.cause}"


async def explain_command(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.explain import MAX_INPUT, explain_reply

    kb = knowledge_base()
    if kb is None:
        return EXIT_DATA
    text: str = args.text
    if text == "-":
        text = await asyncio.to_thread(sys.stdin.read, MAX_INPUT)
    matches = explain_reply(kb, text)
    if args.json:
        _print_json({"matches": [m.as_dict() for m in matches]})
    elif not matches:
        print(
            "No known SMTP reply or error found in that text, so nothing is guessed. "
            "Paste the full error, including the code (like 535 5.7.8), or ask a question "
            "with smtpcheck ask."
        )
    else:
        for match in matches:
            print(_match_line(match))
            print("  read: " + ", ".join(match.articles))
    return EXIT_FOUND if matches else EXIT_NOTHING


async def discover_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.resolver import make_resolver
    from knowledge.discover import discover_settings

    kb = knowledge_base()
    if kb is None:
        return EXIT_DATA
    resolver = make_resolver(settings.dns_servers, lifetime=DISCOVER_DEADLINE)
    try:
        found = await discover_settings(
            kb, args.target, resolver=resolver, deadline=DISCOVER_DEADLINE
        )
    except InputError as exc:
        print(f"smtpcheck: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        _print_json(found.as_dict())
    else:
        print(_render_discovery(found))
    return EXIT_FOUND if found.candidates else EXIT_NOTHING


_SOURCES: Final = {
    "srv": "DNS SRV record",
    "mx": "provider, from the MX record",
    "provider": "provider table",
    "guess": "a guess",
}


def _render_discovery(found: Discovery) -> str:
    lines = [f"Domain: {found.domain}"]
    if found.provider is not None:
        lines.append(f"Provider: {found.provider.name} [{found.provider.id}]")
        lines.append(f"Username: {found.provider.username}")
    if found.problem == "nxdomain":
        lines.append("The domain does not exist in DNS; check the spelling.")
    if not found.complete:
        lines.append("DNS did not answer in time; results may be incomplete.")
    if not found.candidates:
        lines.append("No sending server found.")
    for candidate in found.candidates:
        security = "SSL/TLS" if candidate.security == "tls" else "STARTTLS"
        lines.append(
            f"  {candidate.host}:{candidate.port}  {security}  ({_SOURCES[candidate.source]})"
        )
    return "\n".join(lines)
