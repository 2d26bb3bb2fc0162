"""Where a webhook may be sent. In production: https only, to a host none of whose
addresses is loopback, link-local, private or otherwise not global (checked when the
endpoint is saved and again for every delivery, against DNS rebinding). In development any
http(s) URL, so local receivers work."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000


def url_problem(url: str, *, production: bool) -> str | None:
    """Why ``url`` may not be a webhook target (a reason code), or None."""
    if len(url) > MAX_URL_LENGTH:
        return "webhook_url_too_long"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return "webhook_url_invalid"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "webhook_url_invalid"
    if parts.username is not None or parts.password is not None:
        return "webhook_url_credentials"
    if parts.fragment:
        return "webhook_url_invalid"
    if production and parts.scheme != "https":
        return "webhook_url_not_https"
    literal = _literal_address(parts.hostname)
    if literal is not None and not address_allowed(literal, production=production):
        return "webhook_url_private_address"
    return None


def address_allowed(address: str, *, production: bool) -> bool:
    """In production only globally routable unicast addresses (an IPv4-mapped IPv6 address
    is judged as the IPv4 one it carries)."""
    if not production:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
