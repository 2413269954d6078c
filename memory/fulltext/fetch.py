"""Fetch one paper's full text over HTTP, from arxiv.org or from the offline mirror (which serves
the same `/html/<id>` and `/pdf/<id>`), so online and offline runs share this one code path.

The LaTeXML HTML is tried first (structure, tables with cells, cheap to parse); on a 404, an
unparseable page or one with no LaTeXML sections (arXiv answers some ids with a page that is no
paper), the PDF. Every request waits on the limiter passed in: online that must be the very
instance `memory.arxiv_client.ArxivSearch.limiter` uses, since arXiv's one-request-per-3-s
budget covers the API and the documents together. Transient failures (no answer, 408, 429,
5xx) are retried by `memory.net.RetryPolicy`; a 404 is not. When neither format gives a full
text, the result says why (one clause per attempt) instead of raising: a run continues on the
abstract and records the degradation.

Parsed full texts are cached on disk by id (+version) and format as compressed JSON, so a hit
costs neither a request nor a PDF parse. Failures are not cached: the next call tries again."""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import requests

from memory.fulltext import FullText, FullTextError, detect_format, read_fulltext
from memory.models import split_arxiv_id
from memory.net import GaveUp, RateLimiter, RetryPolicy, status_of

FetchFormat = Literal["latexml", "pdf"]
ARXIV_INTERVAL_S = 3.0  # arXiv's terms: one request per 3 s, whatever the endpoint
MAX_BYTES = 100 * 1024 * 1024  # arXiv caps submissions at 50 MB; anything bigger is no paper
USER_AGENT = "sovereign-research-kernel/0.1 (full-text fetcher)"
_ROUTES: tuple[tuple[FetchFormat, str], ...] = (("latexml", "html"), ("pdf", "pdf"))
_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z-]*(\.[A-Z]{2})?/\d{7})(v\d+)?$")


@dataclass(frozen=True)
class FetchResult:
    """What a fetch gave: the full text and the format it came from, or `reason` saying why
    there is none, the degradation a run records (`tried` holds one line per failed attempt,
    also on success, e.g. the HTML 404 before the PDF was read)."""

    arxiv_id: str
    version: int | None
    fulltext: FullText | None = None
    format: FetchFormat | None = None
    url: str | None = None
    from_cache: bool = False
    reason: str | None = None
    tried: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.fulltext is not None


class _Refused(Exception):
    """A response we will not use (too large); never retried."""


def _why(exc: BaseException, timeout_s: float) -> str:
    status = status_of(exc)
    if status is not None:
        return f"HTTP {status}"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "unreachable (connection failed)"
    if isinstance(exc, _Refused):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class FullTextFetcher:
    """`fetch(arxiv_id, version=None)` against `base_url` ('https://arxiv.org', or the mirror's
    root such as `MirrorHandle.base_url`). Safe to share between threads. Without a `limiter`
    it paces itself at arXiv's 3 s, never faster: pass the arXiv client's to share its budget
    (or a zero-interval one for a local mirror)."""

    def __init__(
        self,
        base_url: str,
        limiter: RateLimiter | None = None,
        timeout_s: float = 30.0,
        cache_dir: Path | None = None,
        retry: RetryPolicy | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter if limiter is not None else RateLimiter(ARXIV_INTERVAL_S)
        self.timeout_s = timeout_s
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.retry = retry or RetryPolicy()
        self.max_bytes = max_bytes

    # --- the one public call ---------------------------------------------------------------

    def fetch(self, arxiv_id: str, version: int | None = None) -> FetchResult:
        """The paper's full text, HTML first then PDF; never raises for a network or parse
        failure (see `FetchResult.reason`)."""
        raw = arxiv_id.strip()
        if not _ID.match(raw):
            return FetchResult(raw, version, reason=f"not an arXiv id: {raw[:100]!r}")
        base, embedded = split_arxiv_id(raw)
        version = version if version is not None else embedded
        ident = f"{base}v{version}" if version else base
        for fmt, _ in _ROUTES:
            cached = self._cached(ident, fmt)
            if cached is not None:
                return FetchResult(base, version, cached, fmt, from_cache=True)
        tried: list[str] = []
        for fmt, route in _ROUTES:
            url = f"{self.base_url}/{route}/{ident}"
            doc, why = self._fetch_one(url, fmt, base, version)
            if doc is None:
                tried.append(f"{route}: {why}")
                continue
            self._store(ident, fmt, doc)
            return FetchResult(base, version, doc, fmt, url, tried=tuple(tried))
        reason = "no full text: " + "; ".join(tried)
        return FetchResult(base, version, reason=reason, tried=tuple(tried))

    # --- one format ------------------------------------------------------------------------

    def _fetch_one(
        self, url: str, fmt: FetchFormat, arxiv_id: str, version: int | None
    ) -> tuple[FullText | None, str]:
        body, why = self._get(url)
        if body is None:
            return None, why
        if not body.strip():
            return None, "empty body"
        doc, why = _parse(body, fmt, arxiv_id)
        if doc is not None:
            doc.version = version or doc.version
        return doc, why

    def _get(self, url: str) -> tuple[bytes | None, str]:
        """The body of a 200 answer, or None and why not."""
        try:
            return self.retry.call(lambda: self._attempt(url)), ""
        except GaveUp as exc:
            return None, f"{_why(exc.error, self.timeout_s)} after {exc.attempts} attempts"
        except (requests.RequestException, _Refused) as exc:
            return None, _why(exc, self.timeout_s)

    def _attempt(self, url: str) -> bytes:
        self.limiter.wait()
        headers = {"User-Agent": USER_AGENT}
        with requests.get(url, timeout=self.timeout_s, headers=headers, stream=True) as resp:
            if resp.status_code != 200:
                raise requests.HTTPError(f"HTTP {resp.status_code}", response=resp)
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_content(1 << 16):
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Refused(f"larger than {self.max_bytes:,} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    # --- the cache -------------------------------------------------------------------------

    def _cache_path(self, ident: str, fmt: FetchFormat) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{ident.replace('/', '_')}.{fmt}.json.gz"

    def _cached(self, ident: str, fmt: FetchFormat) -> FullText | None:
        """A cached full text; an unreadable cache file is dropped and counts as a miss."""
        path = self._cache_path(ident, fmt)
        if path is None or not path.exists():
            return None
        try:
            return FullText.model_validate_json(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, ValueError):
            path.unlink(missing_ok=True)
            return None

    def _store(self, ident: str, fmt: FetchFormat, doc: FullText) -> None:
        """Write atomically (temp file + rename): a reader never sees half a file. A cache
        that cannot be written only costs the next call a request."""
        path = self._cache_path(ident, fmt)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = gzip.compress(doc.model_dump_json().encode("utf-8"), 6)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            return


def _parse(body: bytes, fmt: FetchFormat, arxiv_id: str) -> tuple[FullText | None, str]:
    """Read a fetched body; a page that is no LaTeXML paper, or a PDF the reader cannot open,
    is a reason, not an exception."""
    if fmt == "pdf" and detect_format(body) != "pdf":
        return None, "not a PDF"
    try:
        doc = read_fulltext(body, fmt=fmt, paper_id=arxiv_id)
    except FullTextError as exc:
        return None, f"unreadable ({exc})"
    except Exception as exc:  # a reader bug on hostile input degrades this paper only
        return None, f"reader error ({type(exc).__name__})"
    if fmt == "latexml" and not doc.sections:
        return None, "no LaTeXML sections in the page"
    if not doc.paragraphs:
        return None, "no body text"
    return doc, ""
