"""A tiny authoritative DNS server for tests: UDP on 127.0.0.1, port 0, in a thread.

Records come from a plain dict ``{(name, rdtype): [rdata text, ...]}``. Names
listed in ``silent`` get no answer at all (a resolver timeout); names listed in
``servfail`` get SERVFAIL; names listed in ``refused`` (or every name, with
``refuse_all``) get REFUSED; any other name not in the zone gets NXDOMAIN.
``rcodes`` answers one record type of one name with an error code instead:
``{("name.", "AAAA"): "REFUSED"}`` (an IPv6 lookup broken while IPv4 works).

Faults of the server itself rather than of a name: ``silent_all`` drops every
query (a resolver that never answers: a firewall eating the packets); ``drop_first``
drops the first N queries of each question and answers the rest (a lost datagram);
``delay`` sends every answer that many seconds late (a slow but working resolver),
without holding up other queries. ``queries`` records every query received,
answered or not.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Zone = Mapping[tuple[str, str], Iterable[str]]


class DnsServer:
    def __init__(
        self,
        zone: Zone,
        *,
        silent: Iterable[str] = (),
        servfail: Iterable[str] = (),
        refused: Iterable[str] = (),
        refuse_all: bool = False,
        rcodes: Mapping[tuple[str, str], str] | None = None,
        silent_all: bool = False,
        drop_first: int = 0,
        delay: float = 0.0,
    ) -> None:
        self._zone = {
            (dns.name.from_text(name), dns.rdatatype.from_text(rdtype)): list(values)
            for (name, rdtype), values in zone.items()
        }
        self._names = {name for name, _ in self._zone}
        self._silent = {dns.name.from_text(n) for n in silent}
        self._servfail = {dns.name.from_text(n) for n in servfail}
        self._refused = {dns.name.from_text(n) for n in refused}
        self._refuse_all = refuse_all
        self._rcodes = {
            (dns.name.from_text(name), dns.rdatatype.from_text(rdtype)): dns.rcode.from_text(code)
            for (name, rdtype), code in (rcodes or {}).items()
        }
        self._silent_all = silent_all
        self._drop_first = drop_first
        self._delay = delay
        self._seen: dict[tuple[dns.name.Name, int], int] = {}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.host, self.port = self._sock.getsockname()
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        """``IP:port``, the form ``SMTPCHECK_DNS_SERVERS`` takes."""
        return f"{self.host}:{self.port}"

    def start(self) -> DnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._answer(data)
            if reply is None:
                continue
            if self._delay > 0:
                late = threading.Timer(self._delay, self._send, (reply, peer))
                late.daemon = True
                late.start()
            else:
                self._send(reply, peer)

    def _send(self, reply: bytes, peer: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # stopped meanwhile
            self._sock.sendto(reply, peer)

    def _answer(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return None
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        self.queries.append((qname.to_text(), dns.rdatatype.to_text(qtype)))
        seen = self._seen[(qname, qtype)] = self._seen.get((qname, qtype), 0) + 1
        if self._silent_all or qname in self._silent or seen <= self._drop_first:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if qname in self._servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        rcode = self._rcodes.get((qname, qtype))
        if rcode is not None:
            response.set_rcode(rcode)
            return response.to_wire()
        if self._refuse_all or qname in self._refused:
            response.flags &= ~dns.flags.AA
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        values = self._zone.get((qname, qtype))
        if values:
            rrset = dns.rrset.from_text_list(qname, 60, dns.rdataclass.IN, qtype, list(values))
            response.answer.append(rrset)
        elif qname not in self._names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()


@contextmanager
def dns_server(zone: Zone, **kwargs: Any) -> Iterator[DnsServer]:
    server = DnsServer(zone, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
