"""Join links and QR codes, built on an address other laptops in the room can reach."""

from __future__ import annotations

import functools
import io
import ipaddress
import os
import socket
from urllib.parse import urlencode

import psutil
import segno

DEFAULT_PORT = 8501


_VIRTUAL = ("docker", "veth", "br-", "virbr", "lo")


def local_address() -> str:
    """This laptop's address on the room's network (a private IPv4), else 127.0.0.1.

    Read from the interfaces themselves: nothing is sent, which matters on a venue
    network with no internet.
    """
    candidates: list[ipaddress.IPv4Address] = []
    for name, addresses in psutil.net_if_addrs().items():
        if name.startswith(_VIRTUAL):
            continue
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(address.address)
            if not (ip.is_loopback or ip.is_link_local):
                candidates.append(ip)
    candidates.sort(key=lambda ip: (not ip.is_private, int(ip)))
    return str(candidates[0]) if candidates else "127.0.0.1"


def base_url(configured: str | None = None, *, port: int | None = None) -> str:
    """`configured`, else `ROUNDTABLE_BASE_URL`, else http://<local address>:<port>."""
    url = configured or os.environ.get("ROUNDTABLE_BASE_URL")
    if url:
        return url.rstrip("/")
    port = port or int(os.environ.get("PORT", DEFAULT_PORT))
    return f"http://{local_address()}:{port}"


def join_link(base: str, code: str) -> str:
    return f"{base}/?{urlencode({'join': code})}"


def view_link(base: str, code: str) -> str:
    return f"{base}/?{urlencode({'view': code})}"


@functools.lru_cache(maxsize=256)  # the join page draws every group's code on each rerun
def qr_png(data: str, *, scale: int = 8) -> bytes:
    """A QR code as PNG bytes, large enough to scan from a projector across a room."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
