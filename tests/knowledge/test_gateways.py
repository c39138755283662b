"""The shipped filtering-gateway patterns: documented hosts match, unconfirmed ones are gone."""

from __future__ import annotations

import fnmatch
import re

import pytest

from knowledge import KnowledgeBase, load_knowledge
from knowledge.directory import glob_matches
from knowledge.gateways import DISCOVERY_FILE, gateway_for_mx
from knowledge.loader import DEFAULT_ROOT


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return load_knowledge(index=False)


# MX hosts as the cited pages show them (customer parts made up).
DOCUMENTED = [
    ("mx1-us1.ppe-hosted.com", "proofpoint"),
    ("mxb-00505701.gslb.pphosted.com", "proofpoint"),
    ("us-smtp-inbound-1.mimecast.com", "mimecast"),
    ("eu-smtp-inbound-2.mimecast.com", "mimecast"),
    ("d123456a.ess.barracudanetworks.com", "barracuda"),
    ("mx1.acme.iphmx.com", "cisco"),
    ("in.hes.trendmicro.com", "trend-micro"),
    ("mx-01-eu-west-1.prod.hydra.sophos.com", "sophos"),
    ("cluster1.eu.messagelabs.com", "symantec"),
    ("cluster5a.us.messagelabs.com", "symantec"),
    ("cust123.in.mailcontrol.com", "forcepoint"),
    ("mx01.hornetsecurity.com", "hornetsecurity"),
    ("acme.com.1.0001.arsmtp.com", "appriver"),
    ("mx.spamexperts.com", "spamexperts"),
    ("fallbackmx.spamexperts.eu", "spamexperts"),
    ("lastmx.spamexperts.net", "spamexperts"),
    ("filter10.antispamcloud.com", "spamexperts"),
]


@pytest.mark.parametrize(("host", "gateway"), DOCUMENTED)
def test_documented_gateway_hosts_are_recognised(
    shipped: KnowledgeBase, host: str, gateway: str
) -> None:
    found = gateway_for_mx(shipped.directory.gateways, host.upper() + ".")
    assert found is not None and found.id == gateway


@pytest.mark.parametrize(
    "host",
    [
        "acme-com.mail.protection.outlook.com",  # Microsoft 365 itself, not a gateway
        "aspmx.l.google.com",
        "mx.acme.vadesecure.com",  # removed: no page confirmed it
        "acme.in.tmes.trendmicro.com",  # removed: only HES's in.hes.trendmicro.com is documented
        "mail.spamtitan.com",
        "mx.barracudanetworks.com.evil.example",  # a suffix, not the vendor's domain
        "notiphmx.com",
    ],
)
def test_unconfirmed_and_foreign_hosts_are_not_gateways(shipped: KnowledgeBase, host: str) -> None:
    assert gateway_for_mx(shipped.directory.gateways, host) is None


def test_every_gateway_cites_the_page_that_confirms_it() -> None:
    """Each entry of the gateways list is preceded by a comment naming an https:// source."""
    text = (DEFAULT_ROOT / DISCOVERY_FILE).read_text(encoding="utf-8")
    listing = text[text.index("\ngateways:\n") :]
    comments: list[str] = []
    cited: dict[str, bool] = {}
    for line in listing.splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped)
            continue
        entry = re.match(r"- (?:\{)?id: ([a-z0-9-]+)", stripped)
        if entry:
            cited[entry.group(1)] = any(
                re.search(r"(vendor|third-party): https://", c) for c in comments
            )
            comments = []
    assert cited and all(cited.values()), cited


GLOBS = ["*.google.com", "*", "mx.example.com", "*.ex?mple.com", "mx[12].example.com", "*x*", ""]
NAMES = ["aspmx.l.google.com", "google.com", ".google.com", "mx.example.com", "mx1.example.com",
         "a.exemple.com", "x", "", "MX.EXAMPLE.COM"]  # fmt: skip


@pytest.mark.parametrize("glob", GLOBS)
def test_glob_matches_is_fnmatchcase(glob: str) -> None:
    for name in NAMES:
        assert glob_matches(name, glob) is fnmatch.fnmatchcase(name, glob), (name, glob)


def test_glob_matches_every_shipped_mx_glob_like_fnmatchcase(shipped: KnowledgeBase) -> None:
    """The fast path (plain names, ``*.suffix``) answers as fnmatch would for every MX
    glob of the shipped providers, ISPDB and gateways, on hosts they do and do not match."""
    providers = (*shipped.providers.values(), *shipped.directory.ispdb.values())
    globs = {g for p in providers for g in p.mx} | {
        g for w in shipped.directory.gateways for g in w.mx
    }
    assert len(globs) > 20
    names = {g.replace("*", "mx1") for g in globs} | {g.lstrip("*.") for g in globs}
    names |= {"mx.example.test", "google.com.evil.test", "evilgoogle.com"}
    for glob in globs:
        for name in names:
            assert glob_matches(name, glob) is fnmatch.fnmatchcase(name, glob), (name, glob)
