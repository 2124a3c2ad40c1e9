"""URLs as the crawler sees them: one canonical form per page, limits, and the user's globs.

`canonicalize_url` gives every page one identity, so each is fetched once and stored
once: scheme and host lower case, default ports, numeric IPv4 forms (`2130706433`,
`0x7f000001`, `127.1`) written as dotted quads, no fragment, no tracking or session
parameters, query parameters sorted, percent-encoding normalised. The trailing slash
is kept as given: `/docs` and `/docs/` may be different resources (as Google treats
them); a redirect or `<link rel=canonical>` tells the crawler when they are the same.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
MAX_PATH_DEPTH = 20  # path segments
MAX_SEGMENT_REPEATS = 3  # /a/b/a/b/a/b/a/b: a relative-link loop, not a real page

CANONICAL_CACHE_SIZE = 20_000  # canonical forms remembered (a few MB at most)
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = frozenset(
    {
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "yclid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "igshid",
        "ref_src",
        # session ids: every visit gets a new one, so a site would look endless
        "sid",
        "session",
        "sess",
        "sessid",
        "sess_id",
        "sessionid",
        "session_id",
        "phpsessid",
        "jsessionid",
        "aspsessionid",
        "cfid",
        "cftoken",
        "zenid",
        "oscsid",
        "s_id",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
# ;jsessionid=... path parameters (Java servlets), also ;sid=...
_PATH_SESSION = re.compile(r";(?:jsessionid|sid|sessionid|phpsessid)=[^/?#]*", re.I)
# Characters that never need escaping in a path or query (RFC 3986 unreserved + sub-delims).
_SAFE_PATH = "/:@!$&'()*+,;=-._~"
_SAFE_QUERY = "/:@!$'()*,;-._~?"  # &, = and + keep their meaning in a query: escaped in values
SKIPPED_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".svg",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".avif",
        ".css",
        ".js",
        ".mjs",
        ".json",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".m4a",
        ".webm",
        ".mov",
        ".avi",
        ".wav",
        ".ogg",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".exe",
        ".dmg",
        ".msi",
        ".apk",
        ".iso",
        ".bin",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".odt",
        ".ods",
        ".csv",
        ".rss",
        ".atom",
    }
)


class InvalidURL(ValueError):
    """Not an http(s) URL we can use."""


# -- hosts -----------------------------------------------------------------------------
def _ipv4_part(text: str) -> int | None:
    """One part of a WHATWG IPv4 address: decimal, 0x-hex or 0-prefixed octal."""
    if not text:
        return None
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16) if text[2:] else 0
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def parse_ipv4_host(host: str) -> ipaddress.IPv4Address | None:
    """The address a browser (and getaddrinfo) reads in `127.1`, `2130706433`, `0x7f.1`...

    None when the host is a name, not a number.
    """
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()
    if not parts or len(parts) > 4:
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [int(n) for n in numbers if n is not None]
    last_limit = 256 ** (5 - len(values))
    if any(n > 255 for n in values[:-1]) or values[-1] >= last_limit:
        return None
    value = values[-1]
    for i, n in enumerate(values[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address written in a URL host (IPv6 without brackets), if it is one."""
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4_host(host)


def _canonical_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("no host")
    address = literal_address(host)
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        return f"[::ffff:{mapped}]" if mapped else f"[{address.compressed}]"
    if address is not None:
        return str(address)
    if not host.isascii():  # an internationalised name: its ASCII (punycode) form
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(f"bad host name {host!r}") from None
    if any(c in host for c in " /\\@#?%<>\"'`{}|^") or ".." in host:
        raise InvalidURL(f"bad host name {host!r}")
    return host


# -- percent-encoding ------------------------------------------------------------------
def _requote(text: str, safe: str) -> str:
    """Decode what needs no escaping, escape what does, upper-case the hex digits.

    Escaped reserved characters (%2F in a path, %26 in a value) keep their escape:
    decoding them would change the URL's meaning.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1 : i + 3]):
            decoded = chr(int(text[i + 1 : i + 3], 16))
            if decoded.isascii() and (decoded.isalnum() or decoded in "-._~"):
                out.append(decoded)
            else:
                out.append("%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        out.append(char if char in safe or (char.isascii() and char.isalnum()) else quote(char))
        i += 1
    return "".join(out)


def _canonical_path(path: str) -> str:
    path = _PATH_SESSION.sub("", path)
    if not path.startswith("/"):
        path = "/" + path
    # Resolve . and .. as a browser does (RFC 3986 remove_dot_segments), keeping a final slash.
    segments = path.split("/")[1:]
    out: list[str] = []
    for i, segment in enumerate(segments):
        if segment in (".", ".."):
            if segment == ".." and out:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
            continue
        out.append(segment)
    return _requote("/" + "/".join(out), _SAFE_PATH)


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(_TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    pairs.sort()
    return urlencode(pairs, quote_via=quote, safe=_SAFE_QUERY.replace("?", ""))


# -- the canonical form ----------------------------------------------------------------
def canonicalize_url(url: str, base: str | None = None) -> str:
    """The one form of `url` (resolved against `base`) the crawler fetches and stores.

    Raises InvalidURL for anything but an absolute http(s) URL with a host.
    """
    url = re.sub(r"[\t\n\r]", "", url.strip())
    if base:
        url = urljoin(base, url)
    canonical, problem = _canonical_of(url)
    if canonical is None:
        raise InvalidURL(problem)
    return canonical


# The same URLs come back all through a crawl (each page's navigation, the sitemap and the
# last sync's URLs, the final URL of every response) and again at every re-sync.
@functools.lru_cache(maxsize=CANONICAL_CACHE_SIZE)
def _canonical_of(url: str) -> tuple[str | None, str]:
    """(the canonical form, "") or (None, why not) for an absolute URL."""
    try:
        return _canonical_uncached(url), ""
    except InvalidURL as exc:
        return None, str(exc)


def _canonical_uncached(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"not an http(s) URL: {scheme or 'no scheme'}")
    if parts.hostname is None:
        raise InvalidURL("no host")
    host = _canonical_host(unquote(parts.hostname))
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # user:password@ is dropped: a crawler never sends credentials found in a link
    return urlunsplit(
        (scheme, netloc, _canonical_path(parts.path), _canonical_query(parts.query), "")
    )


def try_canonicalize(url: str, base: str | None = None) -> str | None:
    try:
        return canonicalize_url(url, base)
    except InvalidURL:
        return None


def host_port(url: str) -> tuple[str, int]:
    """The (host, port) a URL connects to, default port filled in."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def site_key(host: str) -> str:
    """The site a host belongs to for the crawl: `www.` and bare name are one site."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


# -- query parameters -----------------------------------------------------------------
def without_params(url: str, names: frozenset[str] | set[str]) -> str:
    """`url` (canonical) without the query parameters named (lower case) in `names`."""
    if not names:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(n, v) for n, v in pairs if n.lower() not in names]
    if len(kept) == len(pairs):
        return url
    query = urlencode(kept, quote_via=quote, safe=_SAFE_QUERY.replace("?", ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def session_values_blanked(body: bytes, extra: frozenset[str] | set[str] = frozenset()) -> bytes:
    """`body` with the values of session parameters in its links blanked (`?sid=`), for a
    content hash that a fresh session id on every visit does not change. `extra`: more
    parameter names (lower case), such as the volatile ones a crawl learnt."""
    names = {n for n in TRACKING_PARAMS | set(extra) if n.isascii()}
    if not names or b"=" not in body:
        return body
    alternatives = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rb"([?&;](?:" + alternatives + rb")=)[^\"'&#<>\s]+", re.IGNORECASE)
    return pattern.sub(rb"\1", body)


# -- limits ----------------------------------------------------------------------------
def shape_problem(url: str) -> str | None:
    """A reason to refuse a URL for its shape alone (length, depth, loops), else None."""
    if len(url) > MAX_URL_LENGTH:
        return "url-too-long"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) > MAX_PATH_DEPTH:
        return "path-too-deep"
    counts: dict[str, int] = {}
    for segment in segments:
        counts[segment] = counts.get(segment, 0) + 1
        if counts[segment] > MAX_SEGMENT_REPEATS:
            return "repeating-path"
    return None


def unwanted_suffix(url: str) -> bool:
    """An image, stylesheet, archive...: not HTML or PDF, so not worth a request."""
    return PurePosixPath(urlsplit(url).path).suffix.lower() in SKIPPED_SUFFIXES


# -- the user's patterns ---------------------------------------------------------------
def _target(url: str, pattern: str) -> str:
    if "://" in pattern:
        return url
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def glob_matches(url: str, pattern: str) -> bool:
    """Does a user's glob match a URL?

    `https://...` patterns match the whole URL; `/...` patterns match the path (and
    query) from its start; anything else matches anywhere in the path (`*.pdf`, `blog`).
    `*` crosses slashes. Case-sensitive, as paths are.
    """
    pattern = pattern.strip()
    if not pattern:
        return False
    target = _target(url, pattern)
    if "://" in pattern or pattern.startswith("/"):
        return fnmatch.fnmatchcase(target, pattern) or (
            # "/docs/*" also means "/docs/" itself; "/docs" also "/docs?x=1"
            pattern.endswith("/*") and fnmatch.fnmatchcase(target, pattern[:-1])
        )
    return fnmatch.fnmatchcase(target, f"*{pattern}*")


def pattern_problem(url: str, include: Sequence[str], exclude: Sequence[str]) -> str | None:
    """'pattern' when the include/exclude globs keep `url` out, else None."""
    return "pattern" if pattern_rule(url, include, exclude) else None


def pattern_rule(url: str, include: Sequence[str], exclude: Sequence[str]) -> str | None:
    """Which rule keeps `url` out, in words naming the pattern, or None when none does:
    "excluded by */blog/*", or "not in the include rules (*/docs/*)"."""
    rule = next((p.strip() for p in exclude if glob_matches(url, p)), None)
    if rule is not None:
        return f"excluded by {rule}"
    if include and not any(glob_matches(url, p) for p in include):
        return f"not in the include rules ({', '.join(p.strip() for p in include)})"
    return None
