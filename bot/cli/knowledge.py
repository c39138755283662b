"""``smtpcheck ask | article | explain | discover``: the knowledge engines at a terminal.

Exit codes: 0 an answer was found; 1 nothing found (no article, no known reply,
no candidate); 2 invalid input; 3 the knowledge data failed to load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from typing import TYPE_CHECKING, Any, Final, TextIO

from bot.cli import EXIT_INVALID
from bot.config import Settings
from bot.errors import InputError, KnowledgeError
from knowledge.default import get_knowledge

if TYPE_CHECKING:
    import dns.asyncresolver

    from knowledge.autoconfig import Fetcher
    from knowledge.model import Discovery, KnowledgeBase, Match, SearchResult

# Engines are imported inside the command that needs them: `explain` never loads the
# search index or the DNS resolver, which is most of a start-up.

COMMANDS: Final = frozenset({"ask", "article", "explain", "discover"})  # what register() adds
EXIT_FOUND: Final = 0
EXIT_NOTHING: Final = 1
EXIT_DATA: Final = 3
STEPS_SHOWN: Final = 3
_ARTICLE_ID: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
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

    article = subparsers.add_parser(
        "article",
        help="print one whole article",
        description="Print one knowledge article in full: title, summary, every step and "
        "the related articles. IDs are shown in brackets by ask, e.g. [app-passwords].",
        epilog="exit status: 0 printed, 1 no article with that id, 2 invalid input, "
        "3 knowledge data failed to load",
    )
    article.add_argument("id", metavar="ID", help="the article id, e.g. app-passwords")
    article.add_argument(
        "--for",
        dest="audience",
        metavar="PROVIDER_OR_CLIENT",
        help="show the steps written for this provider or client id (e.g. gmail, thunderbird)",
    )
    article.add_argument("--json", action="store_true", help="machine-readable output")
    article.set_defaults(handler=article_command)

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
        "domain (provider table, Thunderbird's ISPDB, the domain's autoconfig file, DNS SRV "
        "and MX records), best first, encrypted before plaintext. Uses SMTPCHECK_DNS_SERVERS, "
        "SMTPCHECK_ALLOW_NETWORKS and SMTPCHECK_CA_FILE.",
        epilog=_EXITS,
    )
    discover.add_argument("target", metavar="EMAIL_OR_DOMAIN")
    discover.add_argument("--json", action="store_true", help="machine-readable output")
    discover.set_defaults(handler=discover_command)


def knowledge_base(args: argparse.Namespace, *, index: bool = False) -> KnowledgeBase | None:
    """The knowledge base, or None after one line on stderr (the caller exits ``EXIT_DATA``)
    and, with ``--json``, a ``knowledge_error`` document on stdout.

    ``index`` builds the search index too (only ``ask`` searches)."""
    try:
        return get_knowledge(index=index)
    except KnowledgeError as exc:
        message = f"knowledge data is invalid: {exc}"
        print(f"smtpcheck: {message}", file=sys.stderr)
        if args.json:
            _print_json({"outcome": "knowledge_error", "error": {"message": message}})
        return None


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _refuse(args: argparse.Namespace, field: str, message: str) -> int:
    """Bad input: one line on stderr, exit 2, and with ``--json`` the same document as
    every other command's (``{"outcome": "invalid_input", "error": ...}``) on stdout."""
    print(f"smtpcheck: {message}", file=sys.stderr)
    if args.json:
        _print_json({"outcome": "invalid_input", "error": {"field": field, "message": message}})
    return EXIT_INVALID


async def ask_command(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.search import search

    kb = knowledge_base(args, index=True)
    if kb is None:
        return EXIT_DATA
    if not 1 <= args.limit <= 20:
        return _refuse(args, "limit", "--limit must be between 1 and 20")
    if not args.question.strip():
        return _refuse(args, "question", "the question is empty: ask it in words")
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
    audience = next((k for k in (result.provider, result.client) if k in best.variants), None)
    steps = best.steps_for(audience)
    lines += [f"{number:>2}. {step}" for number, step in enumerate(steps[:STEPS_SHOWN], start=1)]
    if len(steps) > STEPS_SHOWN:
        command = f"smtpcheck article {best.id}" + (f" --for {audience}" if audience else "")
        lines.append(
            f"    ({len(steps) - STEPS_SHOWN} more step(s) in the article: run `{command}`)"
        )
    if len(result.answers) > 1:
        lines += ["", "Also:"]
        lines += [f"  - {a.article.title}  [{a.article.id}]" for a in result.answers[1:]]
    for match in result.matches:
        lines += ["", "Recognised error: " + _match_line(match)]
    return "\n".join(lines)


async def article_command(args: argparse.Namespace, settings: Settings) -> int:
    article_id = str(args.id).strip().lower()
    if not _ARTICLE_ID.fullmatch(article_id):
        return _refuse(
            args,
            "id",
            f"{args.id!r} is not an article id (lower-case words joined by dashes, "
            "e.g. app-passwords)",
        )
    kb = knowledge_base(args)
    if kb is None:
        return EXIT_DATA
    audience = args.audience.strip().lower() if args.audience else None
    if audience is not None and audience not in kb.providers and audience not in kb.clients:
        return _refuse(args, "for", f"--for {args.audience!r} is not a provider or client id")
    article = kb.articles.get(article_id)
    if article is None:
        import difflib  # only for an unknown id: not on every start

        close = difflib.get_close_matches(article_id, list(kb.articles), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        message = (
            f'no article with id {article_id!r}; {hint}find one with: smtpcheck ask "your question"'
        )
        print(f"smtpcheck: {message}", file=sys.stderr)
        if args.json:
            _print_json({"outcome": "not_found", "error": {"field": "id", "message": message}})
        return EXIT_NOTHING
    steps = article.steps_for(audience)
    related = [kb.articles[r] for r in article.related if r in kb.articles]
    if args.json:
        _print_json(
            {
                "id": article.id,
                "title": article.title,
                "summary": article.summary,
                "steps": list(steps),
                "variant": audience if audience in article.variants else None,
                "variants": sorted(article.variants),
                "related": [{"id": r.id, "title": r.title} for r in related],
            }
        )
        return EXIT_FOUND
    lines = [f"{article.title}  [{article.id}]", "", article.summary, ""]
    lines += [f"{number:>2}. {step}" for number, step in enumerate(steps, start=1)]
    if article.variants:
        shown = f" (these are for {audience})" if audience in article.variants else ""
        lines += [
            "",
            "Steps also written for: --for " + ", ".join(sorted(article.variants)) + shown,
        ]
    if related:
        lines += ["", "Related:"] + [f"  - {r.title}  [{r.id}]" for r in related]
    print("\n".join(lines))
    return EXIT_FOUND


def _match_line(match: Match) -> str:
    code = " ".join(str(part) for part in (match.code, match.enhanced) if part)
    provider = f" ({match.provider})" if match.provider else ""
    return f"{code or 'no code'}{provider}: {match.cause}"


def read_paste(stream: TextIO) -> str:
    """All of ``stream`` as ``explain`` reads it, in bounded memory: the input's first
    ``MAX_INPUT`` + 1 characters and its last ``MAX_INPUT``, the middle dropped while reading
    (``knowledge.paste.bounded`` then keeps the beginning and the end it needs)."""
    from knowledge.paste import MAX_INPUT

    head = stream.read(MAX_INPUT + 1)
    if len(head) <= MAX_INPUT:
        return head
    tail = ""
    while chunk := stream.read(1 << 16):
        tail = (tail + chunk)[-MAX_INPUT:]
    return head + tail


async def explain_command(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.explain import explain_text
    from knowledge.paste import HEAD_READ, MAX_REPLIES_READ, TAIL_READ

    kb = knowledge_base(args)
    if kb is None:
        return EXIT_DATA
    text: str = args.text
    if text == "-":
        text = await asyncio.to_thread(read_paste, sys.stdin)
    if not text.strip():
        return _refuse(
            args, "text", "nothing to explain: paste the error text (or pipe it in with -)"
        )
    explained = explain_text(kb, text)
    matches = explained.matches
    if args.json:
        _print_json(explained.as_dict())
        return EXIT_FOUND if matches else EXIT_NOTHING
    if explained.truncated:
        print(
            f"(the paste was long: only its beginning and its end were read, the first "
            f"{HEAD_READ:,} and last {TAIL_READ:,} characters and at most {MAX_REPLIES_READ} "
            "replies; if the error is in the middle, explain that part on its own)"
        )
    if not matches and explained.has_code:
        print(
            "The text holds an SMTP reply code, but not one whose wording smtpcheck knows, so "
            "nothing is guessed. Describe what you were doing with smtpcheck ask."
        )
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
    from knowledge.discover import discover_settings, known_discovery

    kb = knowledge_base(args)
    if kb is None:
        return EXIT_DATA
    try:
        # A provider-directory hit answers before dnspython is even imported.
        found = known_discovery(kb, args.target)
        if found is None:
            from bot.resolver import make_resolver

            resolver = make_resolver(settings.dns_servers)
            found = await discover_settings(
                kb,
                args.target,
                resolver=resolver,
                fetcher=LazyFetcher(settings, resolver),
                deadline=DISCOVER_DEADLINE,
            )
    except InputError as exc:
        return _refuse(args, exc.field, str(exc))
    if args.json:
        _print_json(found.as_dict())
    else:
        print(_render_discovery(found))
    return EXIT_FOUND if found.candidates else EXIT_NOTHING


class LazyFetcher:
    """The egress-checked HTTPS fetcher, built on first use: a lookup answered from the
    provider directory (or stopped by failing DNS) never loads aiohttp nor the system CA
    store."""

    def __init__(self, settings: Settings, resolver: dns.asyncresolver.Resolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self._fetcher: Fetcher | None = None

    async def __call__(self, url: str, *, domain: str) -> bytes:
        if self._fetcher is None:
            from bot.fetch import HttpsFetcher, lazy_fetch_context
            from bot.probe.egress import EgressPolicy

            ca_file = self._settings.ca_file
            self._fetcher = HttpsFetcher(
                resolver=self._resolver,
                policy=EgressPolicy(self._settings.allow_networks),
                ssl_context=lazy_fetch_context([ca_file] if ca_file else []),
            )
        return await self._fetcher(url, domain=domain)


_SOURCES: Final = {
    "provider": "provider table",
    "ispdb": "Thunderbird's ISPDB",
    "autoconfig": "the domain's autoconfig file",
    "srv": "DNS SRV record",
    "mx": "provider, from the MX record",
    "guess": "a guess",
}
_SECURITY: Final = {"tls": "SSL/TLS", "starttls": "STARTTLS", "none": "NO ENCRYPTION"}


def _render_discovery(found: Discovery) -> str:
    lines = [f"Domain: {found.domain}"]
    lines += [f"Note: {note}" for note in found.notes[:1] if found.oauth_only]
    if found.provider is not None:
        lines.append(f"Provider: {found.provider.name} [{found.provider.id}]")
    if found.gateway is not None:
        lines.append(f"Filtering gateway: {found.gateway.name} (hides the mailbox provider)")
    if found.username is not None:
        lines.append(f"Username: {found.username}")
    if not found.candidates:
        lines.append("No sending server found.")
    for candidate in found.candidates:
        lines.append(
            f"  {candidate.host}:{candidate.port}  {_SECURITY[candidate.security]}  "
            f"({_SOURCES[candidate.source]})"
        )
    lines += [f"Note: {note}" for note in found.notes[1 if found.oauth_only else 0 :]]
    if found.provider is not None and found.provider.source == "provider":
        lines += [f"Help: {link}" for link in found.provider.links]
        lines.append(f"(provider facts checked {found.provider.checked.isoformat()})")
    return "\n".join(lines)
