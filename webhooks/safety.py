"""Where webhooks may be sent: no server-side request forgery through an endpoint URL.

- Live endpoints must be https (`OSDM_WEBHOOKS_ALLOW_HTTP` relaxes this for development and tests).
- The host is resolved once per attempt, every address it resolves to must be public (not private,
  loopback, link-local, multicast, reserved or unspecified) unless `OSDM_WEBHOOKS_ALLOW_PRIVATE`
  is set, and the request goes to the address that was checked (the Host header and TLS SNI keep
  the name), so a DNS answer that changes between check and connect cannot redirect it.
- Redirects are never followed (the delivery client), and response bodies are read up to a cap.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class UnsafeURL(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Target:
    url: str  # with the checked IP address in place of the host name
    host_header: str
    sni_hostname: str | None


def url_validate(url: str) -> str:
    """Static checks, at endpoint creation and update."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeURL("invalid_url", "Use an absolute http(s) URL.")
    if parts.scheme != "https" and not settings.OSDM_WEBHOOKS_ALLOW_HTTP:
        raise UnsafeURL("https_required", "Webhook endpoints must use https.")
    if parts.username or parts.password:
        raise UnsafeURL("invalid_url", "Credentials in the URL are not allowed; verify signatures instead.")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    if not _public(address) and not settings.OSDM_WEBHOOKS_ALLOW_PRIVATE:
        raise UnsafeURL("private_address", "Webhook endpoints must be reachable on a public address.")
    return url


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified or not address.is_global)


def resolve(url: str) -> Target:
    """Resolve and check, at every attempt. Raises UnsafeURL."""
    url_validate(url)
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL("dns_failure", f"Cannot resolve {host}.") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not settings.OSDM_WEBHOOKS_ALLOW_PRIVATE and not all(_public(a) for a in addresses):
        raise UnsafeURL("private_address", f"{host} resolves to a non-public address.")
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return Target(url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
                  host_header=host_header, sni_hostname=host if parts.scheme == "https" else None)
