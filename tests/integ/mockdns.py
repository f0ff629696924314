"""
mockdns.py - a tiny UDP DNS server on 127.0.0.1 for the resolver tests.

    with MockDNS({"upstream.test": ["127.0.0.1"]}) as dns:
        dns.port                   the random UDP port it listens on
        dns.queries                [(name, qtype)] in arrival order (qtype 1 A,
                                   28 AAAA, ...), names lower-case
        dns.write_resolv_conf(d)   writes d/resolv.conf ('nameserver 127.0.0.1')
                                   and returns its path

Answers: A queries for a known name get its IPv4 addresses (TTL .ttl, 60 by
default); AAAA queries for a known name get NOERROR with no records (unless
aaaa= lists some); every other name gets NXDOMAIN.  Malformed packets are
ignored.  Python 3 standard library only; binds 127.0.0.1 only.
"""

import os
import select
import socket
import struct
import threading

HOST = "127.0.0.1"
T_A, T_AAAA = 1, 28


class MockDNS:
    def __init__(self, a=None, aaaa=None, ttl=60):
        self.a = {k.lower().rstrip("."): list(v) for k, v in (a or {}).items()}
        self.aaaa = {k.lower().rstrip("."): list(v) for k, v in (aaaa or {}).items()}
        self.ttl = ttl
        self.queries = []
        self.port = None
        self._sock = None
        self._stop = threading.Event()
        self._thread = None

    # -- lifecycle ---------------------------------------------------------
    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((HOST, 0))
        self._sock = s
        self.port = s.getsockname()[1]
        self._thread = threading.Thread(target=self._loop, daemon=True, name="MockDNS")
        self._thread.start()
        return self

    def stop(self):
        if self._sock is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        try:
            self._sock.close()
        except OSError:
            pass
        self._sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def write_resolv_conf(self, dirpath, extra=""):
        path = os.path.join(dirpath, "resolv.conf")
        with open(path, "w") as f:
            f.write("nameserver 127.0.0.1\n" + extra)
        return path

    # -- protocol ------------------------------------------------------------
    def _loop(self):
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self._sock], [], [], 0.1)
                if not r:
                    continue
                pkt, addr = self._sock.recvfrom(2048)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                continue
            try:
                out = self.answer(pkt)
            except (IndexError, struct.error, UnicodeDecodeError, ValueError):
                out = None
            if out is not None:
                try:
                    self._sock.sendto(out, addr)
                except OSError:
                    pass

    @staticmethod
    def _parse_question(pkt):
        """(name, qtype, end offset of the question) of a one-question query."""
        o, labels = 12, []
        while True:
            n = pkt[o]
            if n == 0:
                o += 1
                break
            if n & 0xC0:
                raise ValueError("compressed name in a query")
            labels.append(pkt[o + 1:o + 1 + n].decode("ascii"))
            o += 1 + n
        qtype, qclass = struct.unpack("!HH", pkt[o:o + 4])
        return ".".join(labels).lower(), qtype, qclass, o + 4

    def answer(self, pkt):
        if len(pkt) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", pkt[:6])
        if flags & 0x8000 or qd != 1:
            return None  # a response, or not exactly one question
        name, qtype, qclass, end = self._parse_question(pkt)
        self.queries.append((name, qtype))
        question = pkt[12:end]
        records = []
        if name in self.a or name in self.aaaa:
            rcode = 0
            if qtype == T_A:
                records = [(T_A, socket.inet_aton(ip)) for ip in self.a.get(name, [])]
            elif qtype == T_AAAA:
                records = [(T_AAAA, socket.inet_pton(socket.AF_INET6, ip))
                           for ip in self.aaaa.get(name, [])]
        else:
            rcode = 3  # NXDOMAIN
        rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode  # QR AA RD? RA
        out = struct.pack("!HHHHHH", qid, rflags, 1, len(records), 0, 0) + question
        for rtype, rdata in records:
            out += struct.pack("!HHHIH", 0xC00C, rtype, qclass, self.ttl, len(rdata)) + rdata
        return out
