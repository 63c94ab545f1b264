"""Reference solution of the web_crawler kata, final round (every earlier round's API works).

The crawl goes breadth first, one depth level at a time::

    level    [(url, host), ...]   the URLs of the current depth, in breadth-first order
    seen     {identity}           every link identity already decided, followed or not
    pages    [url]                the visited URLs, in breadth-first order (the result)
    rules    host -> prefixes     what robots said, asked once per host, on first need

Each level is admitted in order (robots, then the ``max_pages`` budget), fetched
(concurrently when ``workers > 1``), and only then read, page by page in the
level's order, to build the next level. Reading results in breadth-first order
rather than in completion order is what makes the result independent of thread
timing; waiting for a whole level before starting the next is what makes a
page's depth its shortest distance from the start, never the depth of whichever
path happened to be fetched first.

One thread, the caller's, makes every decision: it owns ``seen``, ``pages``,
``rules`` and the per-host counts, so none of them needs a lock. Worker threads
only run ``fetch`` (with its retries) and hand the outcome back on a future.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

__all__ = ["CrawlReport", "crawl", "crawl_report"]

SCHEMES = ("http", "https")
# Failures worth another attempt: the network may answer next time. Any other
# exception (a parse error, a 404 raised as LookupError, ...) will not change.
TRANSIENT = (ConnectionError, TimeoutError)


@dataclass(frozen=True)
class CrawlReport:
    """What ``crawl_report`` found.

    ``pages``: the visited URLs in breadth-first order (``crawl``'s result);
    ``failed``: URL -> a one-line reason, for the pages that never fetched;
    ``attempts``: the number of ``fetch`` calls made in total.
    """

    pages: list[str]
    failed: dict[str, str]
    attempts: int


def crawl(
    start_url: str,
    fetch: Callable[[str], Iterable[str]],
    *,
    workers: int = 1,
    max_depth: int | None = None,
    max_pages: int | None = None,
    hosts: Iterable[str] = (),
    robots: Callable[[str], Iterable[str]] | None = None,
    per_host: int | None = None,
) -> list[str]:
    """Every page reachable from ``start_url`` on the followed hosts, in breadth-first order.

    ``fetch(url)`` returns the page's links; a ``fetch`` that raises (any
    ``Exception``) makes a page that is visited and has no links, and is never
    retried. ``fetch`` is called at most once per URL, with its identity (the
    URL without its ``#fragment``), by at most ``workers`` threads at once and
    at most ``per_host`` at once per host. The result does not depend on the
    order in which the fetches finish. See ``crawl_report`` for the options.

    >>> web = {"http://a.com/": ["http://a.com/x#top", "http://b.com/"], "http://a.com/x": []}
    >>> crawl("http://a.com/", web.__getitem__)
    ['http://a.com/', 'http://a.com/x']

    Runtime complexity: O(pages + links) besides the fetches, plus one prefix
    test per robots prefix for each admitted URL; memory O(distinct links).
    """
    # One attempt per page is crawl_report with no retries: a transient
    # failure then fails the page like any other exception, and sleep is
    # never called.
    report = crawl_report(
        start_url,
        fetch,
        retries=0,
        workers=workers,
        max_depth=max_depth,
        max_pages=max_pages,
        hosts=hosts,
        robots=robots,
        per_host=per_host,
    )
    return report.pages


def crawl_report(
    start_url: str,
    fetch: Callable[[str], Iterable[str]],
    *,
    retries: int = 2,
    backoff: float = 0.1,
    sleep: Callable[[float], object] = time.sleep,
    workers: int = 1,
    max_depth: int | None = None,
    max_pages: int | None = None,
    hosts: Iterable[str] = (),
    robots: Callable[[str], Iterable[str]] | None = None,
    per_host: int | None = None,
) -> CrawlReport:
    """Crawl as ``crawl`` does, retrying transient failures, and report.

    A ``ConnectionError`` or ``TimeoutError`` (subclasses included) from
    ``fetch`` is retried up to ``retries`` more times, ``sleep(backoff * 2**k)``
    before retry k; any other exception fails the page at once. A retried URL
    keeps its place in the breadth-first order.

    Options, all keyword-only: ``workers`` (>= 1) fetches at once;
    ``max_depth`` (>= 0 or None) links from the start at most, by the shortest
    path; ``max_pages`` (>= 0 or None) the first pages of the breadth-first
    order only; ``hosts`` more hosts to follow (lowercase compared);
    ``robots(host)`` the path prefixes a host disallows, asked once per host;
    ``per_host`` (>= 1 or None) fetches at once per host. Arguments are checked
    before anything is fetched: every type (TypeError), then every value
    (ValueError).

    Runtime complexity: as ``crawl``, plus at most ``retries`` sleeps per page.
    """
    options = _Options.check(
        start_url,
        fetch,
        workers,
        max_depth,
        max_pages,
        hosts,
        robots,
        per_host,
        retries=retries,
        backoff=backoff,
        sleep=sleep,
    )
    state = _Crawl(options).run()
    return CrawlReport(state.pages, state.failed, state.attempts)


# --- arguments ------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _split(url: str) -> tuple[str, str] | None:
    """``(identity, host)`` of an http(s) URL with a host, else None."""
    try:
        identity = urldefrag(url).url
        parts = urlsplit(identity)
    except ValueError:  # urlsplit refuses some malformed URLs (an unclosed "[")
        return None
    if parts.scheme not in SCHEMES or not parts.hostname:
        return None
    return identity, parts.hostname


@dataclass(frozen=True)
class _Options:
    start: str
    start_host: str
    fetch: Callable[[str], Iterable[str]]
    workers: int
    max_depth: int | None
    max_pages: int | None
    hosts: frozenset[str]
    robots: Callable[[str], Iterable[str]] | None
    per_host: int
    retries: int
    backoff: float
    sleep: Callable[[float], object]

    @classmethod
    def check(
        cls,
        start_url: object,
        fetch: object,
        workers: object,
        max_depth: object,
        max_pages: object,
        hosts: object,
        robots: object,
        per_host: object,
        *,
        retries: object,
        backoff: object,
        sleep: object,
    ) -> _Options:
        """The checked options: every type first (TypeError), then every value (ValueError)."""
        if not isinstance(start_url, str):
            raise TypeError(f"start_url must be a str, not {type(start_url).__name__}")
        for name, value in (("fetch", fetch), ("sleep", sleep)):
            if not callable(value):
                raise TypeError(f"{name} must be callable, got {value!r}")
        if robots is not None and not callable(robots):
            raise TypeError(f"robots must be callable or None, got {robots!r}")
        counts = {
            "workers": workers,
            "per_host": per_host,
            "max_depth": max_depth,
            "max_pages": max_pages,
            "retries": retries,
        }
        for name, value in counts.items():
            optional = name not in ("workers", "retries")
            if not (_is_int(value) or (optional and value is None)):
                raise TypeError(
                    f"{name} must be an int{' or None' if optional else ''}, got {value!r}"
                )
        if not (isinstance(backoff, int | float) and not isinstance(backoff, bool)):
            raise TypeError(f"backoff must be a number of seconds, got {backoff!r}")
        if isinstance(hosts, str) or not isinstance(hosts, Iterable):
            raise TypeError(f"hosts must be an iterable of host names, got {hosts!r}")
        hosts = list(hosts)  # read once: it may be a generator
        if not all(isinstance(host, str) for host in hosts):
            raise TypeError(f"hosts must hold str host names, got {hosts!r}")

        start = _split(start_url)
        if start is None:
            raise ValueError(f"start_url must be an http(s) URL with a host, got {start_url!r}")
        for name, least in (
            ("workers", 1),
            ("per_host", 1),
            ("max_depth", 0),
            ("max_pages", 0),
            ("retries", 0),
        ):
            value = counts[name]
            if value is not None and value < least:
                raise ValueError(f"{name} must be at least {least}, got {value!r}")
        if not backoff >= 0:  # also refuses NaN
            raise ValueError(f"backoff must be at least 0, got {backoff!r}")
        return cls(
            start=start[0],
            start_host=start[1],
            fetch=fetch,  # type: ignore[arg-type]
            workers=workers,  # type: ignore[arg-type]
            max_depth=max_depth,  # type: ignore[arg-type]
            max_pages=max_pages,  # type: ignore[arg-type]
            hosts=frozenset({start[1], *(host.lower() for host in hosts)}),
            robots=robots,  # type: ignore[arg-type]
            # No per-host cap is a cap of `workers`: the total cap binds first.
            per_host=workers if per_host is None else per_host,  # type: ignore[arg-type]
            retries=retries,  # type: ignore[arg-type]
            backoff=backoff,
            sleep=sleep,  # type: ignore[arg-type]
        )


# --- fetching one page ------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    url: str
    host: str
    links: list[object]  # as fetch returned them, unchecked
    failure: str | None  # a one-line reason when the page never fetched
    attempts: int


def _reason(exc: BaseException) -> str:
    """The exception's type and message, on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _fetch_page(options: _Options, url: str, host: str) -> _Outcome:
    """Up to ``1 + retries`` attempts; only a transient failure earns another.

    Any exception, even one raised while reading the links, fails the
    attempt: ``list()`` reads a generator here, in the worker.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return _Outcome(url, host, list(options.fetch(url)), None, attempt)
        except TRANSIENT as exc:
            if attempt > options.retries:
                return _Outcome(url, host, [], _reason(exc), attempt)
        except Exception as exc:
            return _Outcome(url, host, [], _reason(exc), attempt)
        try:
            options.sleep(options.backoff * 2 ** (attempt - 1))
        except Exception as exc:  # a broken sleep must not escape the worker either
            return _Outcome(url, host, [], _reason(exc), attempt)


# --- the crawl ----------------------------------------------------------------------------


class _Crawl:
    """The state of one crawl; ``run`` once, then read ``pages``, ``failed``, ``attempts``."""

    def __init__(self, options: _Options) -> None:
        self.options = options
        self.seen: set[str] = {options.start}
        self.visited: dict[str, str] = {}  # visited URL -> its host, in breadth-first order
        self.failed: dict[str, str] = {}
        self.attempts = 0
        self.rules: dict[str, tuple[str, ...]] = {}
        self.busy: Counter[str] = Counter()  # host -> fetches in flight

    @property
    def pages(self) -> list[str]:
        return list(self.visited)

    def run(self) -> _Crawl:
        """Crawl level by level; the executor's threads are all joined on return."""
        if self.options.workers == 1:
            # One fetch at a time needs no thread: fetch in the caller's.
            self._levels(None)
        else:
            with ThreadPoolExecutor(self.options.workers) as pool:
                self._levels(pool)
        self._check()
        return self

    def _levels(self, pool: ThreadPoolExecutor | None) -> None:
        level = [(self.options.start, self.options.start_host)]
        depth = 0
        while level:
            outcomes = self._fetch_level(pool, self._admit(level))
            for outcome in outcomes:
                self.visited[outcome.url] = outcome.host
                self.attempts += outcome.attempts
                if outcome.failure is not None:
                    self.failed[outcome.url] = outcome.failure
            if self._budget() == 0 or depth == self.options.max_depth:
                return
            level = self._next_level(outcomes)
            depth += 1

    def _budget(self) -> int | None:
        """How many more pages may be fetched (None: no limit)."""
        if self.options.max_pages is None:
            return None
        return self.options.max_pages - len(self.visited)

    def _admit(self, level: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The level's URLs to fetch, in order: allowed by robots, within ``max_pages``.

        Robots is asked in this, the caller's, thread, before any fetch of the
        host is submitted: so once per host, and never for a host none of whose
        URLs is about to be fetched (the loop stops when the budget is spent).
        """
        budget = self._budget()
        admitted = []
        for url, host in level:
            if budget is not None and len(admitted) == budget:
                break
            if self._allowed(url, host):
                admitted.append((url, host))
        return admitted

    def _allowed(self, url: str, host: str) -> bool:
        if self.options.robots is None:
            return True
        if host not in self.rules:
            try:
                prefixes = tuple(p for p in self.options.robots(host) if isinstance(p, str))
            except Exception:  # no readable rules: like a site without robots.txt
                prefixes = ()
            self.rules[host] = prefixes
        return not urlsplit(url).path.startswith(self.rules[host])

    def _fetch_level(
        self, pool: ThreadPoolExecutor | None, admitted: list[tuple[str, str]]
    ) -> list[_Outcome]:
        """Fetch the admitted URLs; the outcomes come back in the admitted order."""
        if pool is None:
            return [_fetch_page(self.options, url, host) for url, host in admitted]
        outcomes: dict[str, _Outcome] = {}
        waiting: dict[str, deque[str]] = {}  # host -> its URLs not started yet, in order
        for url, host in admitted:
            waiting.setdefault(host, deque()).append(url)
        running: dict[Future[_Outcome], str] = {}  # future -> its URL's host
        while waiting or running:
            # Start all the caps allow, so a free worker never idles while a
            # URL it could take waits; a host at its cap is skipped, not waited
            # for. Submitting no more than `workers` keeps the executor's queue
            # empty: a URL starts the moment it is submitted.
            for host in list(waiting):
                queue = waiting[host]
                while (
                    queue
                    and len(running) < self.options.workers
                    and self.busy[host] < self.options.per_host
                ):
                    running[pool.submit(_fetch_page, self.options, queue.popleft(), host)] = host
                    self.busy[host] += 1
                if not queue:
                    del waiting[host]
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                self.busy[running.pop(future)] -= 1
                # _fetch_page catches every Exception: what result() could
                # raise here is a BaseException (KeyboardInterrupt), which
                # should stop the crawl, after the executor has joined.
                outcome = future.result()
                outcomes[outcome.url] = outcome
        return [outcomes[url] for url, _ in admitted]

    def _next_level(self, outcomes: list[_Outcome]) -> list[tuple[str, str]]:
        """The new followed links of the level's pages, in page order, then link order."""
        level = []
        for outcome in outcomes:
            for link in outcome.links:
                # The cheap test first: most links of a large site were seen before.
                if not isinstance(link, str) or link in self.seen:
                    continue
                split = _split(link)
                if split is None or split[0] in self.seen:
                    continue
                identity, host = split
                self.seen.add(identity)
                if host in self.options.hosts:
                    level.append((identity, host))
        return level

    def _check(self) -> None:
        """The invariants of a finished crawl (raises AssertionError).

        Every visited page was seen, is on a followed host and was allowed;
        the page budget holds; no fetch is in flight; robots was asked only
        about followed hosts; failures are visited pages.
        """
        assert self.seen.issuperset(self.visited), "a visited page was never seen"
        for url, host in self.visited.items():
            assert host in self.options.hosts, f"{url} is not on a followed host"
            assert self.options.robots is None or (
                not urlsplit(url).path.startswith(self.rules[host])
            ), f"{url} is disallowed"
        assert self.options.max_pages is None or len(self.visited) <= self.options.max_pages
        assert not any(self.busy.values()), f"fetches still in flight: {self.busy}"
        assert self.options.hosts.issuperset(self.rules), "robots asked about a host not followed"
        assert self.failed.keys() <= self.visited.keys(), "a failed page is not visited"
        assert self.attempts >= len(self.visited), "each visited page took an attempt"
