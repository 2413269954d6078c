"""The one arXiv client of the kernel. It wraps the official `arxiv` package and only swaps the
query URL between real arXiv and the offline mirror, so online and offline runs share one code
path. It adds what the package lacks: a request timeout, a rate limit shared by all threads of
one `ArxivSearch`, the kernel's one retry policy (`memory.net`; never for rejected queries), and
conversion to `memory.models.Paper`."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import arxiv
import requests

from memory.errors import ServiceUnavailable, UserError
from memory.models import Paper, split_arxiv_id
from memory.net import GaveUp, RateLimiter, RetryPolicy, status_of
from memory.text import clean_whitespace

ARXIV_QUERY_URL = "https://export.arxiv.org/api/query"
MAX_PAGE_SIZE = 2000  # arXiv's own cap on max_results per request
BACKOFF_S = 1.0  # first backoff after a transient failure; the limiter's spacing comes on top

SORT_CRITERIA = {
    "relevance": arxiv.SortCriterion.Relevance,
    "lastUpdatedDate": arxiv.SortCriterion.LastUpdatedDate,
    "submittedDate": arxiv.SortCriterion.SubmittedDate,
}

_NEW_ID = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
_OLD_ID = re.compile(r"^[a-z][a-z-]*(\.[A-Z]{2})?/\d{7}(v\d+)?$")
_ATOM = "{http://www.w3.org/2005/Atom}"


class QueryRejected(UserError):
    """The API answered 400: the query itself is malformed (retrying cannot help)."""


def is_arxiv_id(raw: str) -> bool:
    """True for new-style (2311.03057, v optional) and old-style (hep-th/9901001) ids."""
    return bool(_NEW_ID.match(raw) or _OLD_ID.match(raw))


def _error_summary(body: bytes) -> str:
    """The text of arXiv's Atom error entry, or a short fallback."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "malformed query"
    for entry in root.iter(f"{_ATOM}entry"):
        summary = entry.findtext(f"{_ATOM}summary")
        if summary:
            return clean_whitespace(summary)
    return "malformed query"


def is_atom_feed(body: bytes) -> bool:
    """True when the body opens with an Atom <feed> element. The arxiv package's parser
    recovers from anything, so an HTML error page or a JSON answer would otherwise read as an
    empty result; only the root is checked (the rest is the package's to parse)."""
    try:  # iterparse reads lazily: stopping at the first element reads one chunk
        for _event, root in ElementTree.iterparse(io.BytesIO(body), events=("start",)):
            return bool(root.tag == f"{_ATOM}feed")
    except ElementTree.ParseError:
        return False
    return False


class _LimitedSession(requests.Session):
    """A requests session that paces every attempt through the shared limiter, always sets a
    timeout and retries transient failures by the kernel's one policy (`memory.net`).

    Whatever it cannot fix it raises as our own error, never as a requests exception: a 400
    becomes `QueryRejected` (retrying a malformed query cannot help), anything else
    `ServiceUnavailable`, and so does a 200 whose body is not an Atom feed (a proxy's HTML
    page, a wrong URL), which the package would read as "no results". The arxiv package
    therefore never sees a failure it would retry again on top of our retries."""

    def __init__(
        self, limiter: RateLimiter, timeout_s: float, retry: RetryPolicy, endpoint: str
    ) -> None:
        super().__init__()
        self._limiter = limiter
        self._timeout_s = timeout_s
        self._retry = retry
        self._endpoint = endpoint

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout_s)
        try:
            return self._retry.call(lambda: self._attempt(method, url, *args, **kwargs))
        except GaveUp as exc:
            raise self._unavailable(exc.error) from exc.error
        except requests.exceptions.RequestException as exc:  # not transient: 404, bad URL ...
            raise self._unavailable(exc) from exc

    def _attempt(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        self._limiter.wait()
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 400:
            raise QueryRejected(f"arXiv rejected the query: {_error_summary(response.content)}")
        if response.status_code != 200:  # the arxiv package accepts nothing else either
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        if not is_atom_feed(response.content):  # not retried: the same URL answers the same
            kind = response.headers.get("Content-Type") or "no Content-Type"
            raise ServiceUnavailable(
                f"arXiv API at {self._endpoint} answered something that is not an Atom feed "
                f"({kind}, {len(response.content):,} bytes)"
            )
        return response

    def _unavailable(self, exc: BaseException) -> ServiceUnavailable:
        where = f"arXiv API at {self._endpoint}"
        status = status_of(exc)
        if status is not None:
            return ServiceUnavailable(f"{where} answered HTTP {status}")
        if isinstance(exc, requests.exceptions.Timeout):
            return ServiceUnavailable(f"{where} did not answer within {self._timeout_s:g} s")
        return ServiceUnavailable(f"{where} is unreachable ({type(exc).__name__})")


def result_to_paper(result: arxiv.Result, query: str | None, retrieved_at: datetime) -> Paper:
    """Convert one parsed Atom entry; text is kept whole, only whitespace is folded."""
    arxiv_id, version = split_arxiv_id(result.get_short_id())
    return Paper(
        arxiv_id=arxiv_id,
        version=version or 1,
        title=clean_whitespace(result.title),
        abstract=clean_whitespace(result.summary),
        authors=[clean_whitespace(a.name) for a in result.authors],
        categories=list(result.categories),
        primary_category=result.primary_category or None,
        published=result.published,
        updated=result.updated,
        comment=clean_whitespace(result.comment) if result.comment else None,
        journal_ref=clean_whitespace(result.journal_ref) if result.journal_ref else None,
        doi=result.doi or None,
        abs_url=result.entry_id,
        pdf_url=result.pdf_url,
        query=query,
        retrieved_at=retrieved_at,
    )


class ArxivSearch:
    """Search and fetch against arXiv or an arXiv-compatible mirror.

    `query_url=None` means real arXiv. One instance may be used from many threads: they share
    one rate limiter, so `delay_s` is honoured by the instance as a whole, retries included.
    `num_retries` re-sends after transient failures (timeouts, refused connections, 429, 5xx)
    and re-reads of a page arXiv served empty by mistake. `sleep` is for tests.

    `limiter` (default: a new one spacing requests by `delay_s`) is exposed as `.limiter` and
    may be passed in, so other clients of the same host (the full-text fetcher, which reads
    arxiv.org's /html and /pdf) share one budget with the API searches."""

    def __init__(
        self,
        query_url: str | None,
        delay_s: float,
        timeout_s: float,
        page_size: int = 100,
        num_retries: int = 2,
        *,
        sleep: Callable[[float], None] = time.sleep,
        limiter: RateLimiter | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.query_url = query_url or ARXIV_QUERY_URL
        self.delay_s = delay_s
        self.timeout_s = timeout_s
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.num_retries = num_retries
        self.limiter = limiter if limiter is not None else RateLimiter(delay_s, sleep=sleep)
        self.retry = RetryPolicy(max_attempts=num_retries + 1, backoff_s=BACKOFF_S, sleep=sleep)

    def _client(self) -> arxiv.Client:
        # delay_seconds=0: the package's own delay is per client and not thread-safe; the
        # shared limiter inside the session spaces every request, retries included. The
        # package's num_retries is left only empty pages to retry: the session raises every
        # other failure as our own error, which the package does not catch.
        client = arxiv.Client(
            page_size=self.page_size, delay_seconds=0.0, num_retries=self.num_retries
        )
        client.query_url_format = self.query_url + "?{}"
        client._session = _LimitedSession(self.limiter, self.timeout_s, self.retry, self.query_url)
        return client

    def _run(self, search: arxiv.Search, query: str | None) -> list[Paper]:
        retrieved_at = datetime.now(UTC)
        client = self._client()
        results: list[arxiv.Result] = []
        try:
            for result in client.results(search):
                results.append(result)
        except arxiv.UnexpectedEmptyPageError:
            pass  # arXiv reported more results than it served; keep the earlier pages
        finally:
            client._session.close()
        papers = []
        for result in results:
            if not result.title.strip() or "/api/errors" in result.entry_id:
                continue  # arXiv's placeholder entries for unknown ids
            papers.append(result_to_paper(result, query, retrieved_at))
        return papers

    def search(self, query: str, max_results: int, sort_by: str = "relevance") -> list[Paper]:
        """Run an arXiv `search_query` (e.g. `all:"mixture of experts" AND all:routing`)."""
        if sort_by not in SORT_CRITERIA:
            raise UserError(f"sort_by must be one of {', '.join(SORT_CRITERIA)}, not {sort_by!r}")
        if not query.strip():
            raise UserError("empty arXiv query")
        search = arxiv.Search(
            query=query,
            max_results=max(0, max_results),
            sort_by=SORT_CRITERIA[sort_by],
            sort_order=arxiv.SortOrder.Descending,
        )
        if max_results <= 0:
            return []
        return self._run(search, query)

    def fetch(self, ids: Sequence[str]) -> list[Paper]:
        """Papers for arXiv ids (with or without version). Unknown or malformed ids are simply
        absent from the answer; order follows the request."""
        wanted: list[str] = []
        for raw in ids:
            base, version = split_arxiv_id(raw)
            ident = f"{base}v{version}" if version else base
            if is_arxiv_id(ident) and ident not in wanted:
                wanted.append(ident)
        papers: list[Paper] = []
        for start in range(0, len(wanted), self.page_size):
            chunk = wanted[start : start + self.page_size]
            search = arxiv.Search(id_list=chunk, max_results=len(chunk))
            try:
                papers.extend(self._run(search, None))
            except QueryRejected:
                continue  # a well-formed but unknown id can still be refused by arXiv
        return papers
