"""Random webs against the model: one comparison per stage.

``crawl`` is a function of the web it is given, so each test draws a whole web
(up to a dozen pages over three hosts, links with fragments, invalid links,
pages that fail) and the options of its stage, crawls it, and compares the
result with ``bfs`` of ``web.py``: the spec's breadth-first order written as
plainly as possible, one page at a time. From stage 2 the fetches sleep a
random fraction of a millisecond, so the threads finish in random orders;
what is compared holds for every order. A failure shows the shrunk web.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dojo.testing import shrinks
from tests.web_crawler.web import Robots, Sleeps, Web, bfs, crawl, crawl_report, switching_often

HOSTS = ("a.com", "b.com", "c.com")
URLS = st.sampled_from([f"http://{h}/{p}" for h in HOSTS for p in ("", "x", "y", "p/1", "p/2")])
LINKS = st.one_of(
    URLS,
    URLS.map(lambda url: url + "#part"),
    st.sampled_from(["/relative", "mailto:me@a.com", 7, None, "http://[::1", "HTTP://A.com/x"]),
)
PAGES = st.dictionaries(
    URLS,
    st.one_of(st.lists(LINKS, max_size=5), st.sampled_from([OSError, ValueError])),
    max_size=12,
)
PREFIXES = st.lists(st.sampled_from(["/p", "/x", "/", "/p/1", "/y"]), max_size=2)
RULES = st.dictionaries(st.sampled_from(HOSTS), PREFIXES, max_size=3)
THREADED = settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])


def crawled_once(web: Web, call: object) -> None:
    url, times = web.most_calls()
    assert times <= 1, f"{call} fetched {url!r} {times} times; at most once per URL"


@shrinks
@pytest.mark.stage(1)
@settings(deadline=None, max_examples=60)
@given(pages=PAGES, start=URLS)
def test_random_webs_are_crawled_in_the_models_breadth_first_order(impl, pages, start):
    web = Web(pages)
    result, call = crawl(impl, start, web)
    expected = bfs(pages, start)
    assert result == expected, (
        f"{call} over {pages} returned {result}; the model says {expected} (breadth first)"
    )
    assert web.order == expected, (
        f"{call} fetched {web.order}; expected exactly the visited pages, in order, once each"
    )


@shrinks
@pytest.mark.stage(2)
@THREADED
@given(pages=PAGES, start=URLS, workers=st.integers(1, 5), seed=st.integers(0, 99))
def test_random_webs_with_workers_give_the_models_result_in_any_timing(
    impl, pages, start, workers, seed
):
    web = Web(pages, jitter=0.001, seed=seed)
    with switching_often():
        result, call = crawl(impl, start, web, workers=workers)
    expected = bfs(pages, start)
    assert result == expected, (
        f"{call} over {pages} returned {result}; the model says {expected} (the serial result, "
        "whatever order the fetches finish in)"
    )
    crawled_once(web, call)
    assert web.peak <= workers, f"{call}: {web.peak} fetches at once; at most {workers}"


@shrinks
@pytest.mark.stage(3)
@THREADED
@given(
    pages=PAGES,
    start=URLS,
    workers=st.integers(1, 4),
    max_depth=st.none() | st.integers(0, 3),
    max_pages=st.none() | st.integers(0, 6),
    hosts=st.lists(st.sampled_from(["B.com", "c.com", "d.com"]), max_size=2),
    rules=st.none() | RULES,
    per_host=st.none() | st.integers(1, 3),
    seed=st.integers(0, 99),
)
def test_random_webs_with_limits_and_robots_agree_with_the_model(
    impl, pages, start, workers, max_depth, max_pages, hosts, rules, per_host, seed
):
    robots = Robots(rules, jitter=0.001, seed=seed) if rules is not None else None
    web = Web(pages, jitter=0.001, seed=seed, robots=robots)
    options = {
        "workers": workers,
        "max_depth": max_depth,
        "max_pages": max_pages,
        "hosts": hosts,
        "robots": robots,
        "per_host": per_host,
    }
    with switching_often():
        result, call = crawl(impl, start, web, **options)
    expected = bfs(pages, start, hosts=hosts, max_depth=max_depth, max_pages=max_pages, rules=rules)
    assert result == expected, (
        f"{call} over {pages} (robots {rules}) returned {result}; the model says {expected}"
    )
    crawled_once(web, call)
    assert sorted(web.order) == sorted(expected), (
        f"{call} fetched {sorted(web.order)}; expected exactly the visited pages"
    )
    assert not web.problems, f"{call}: {web.problems[0]}"
    if robots is not None:
        asked = dict(robots.asked)
        assert all(n == 1 for n in asked.values()), f"{call}: robots asked {asked}; once per host"
    busiest = max(web.host_peak.values(), default=0)
    assert web.peak <= workers and busiest <= (per_host or workers), (
        f"{call}: {web.peak} fetches at once, {busiest} to one host; at most workers={workers} "
        f"and per_host={per_host}"
    )


@shrinks
@pytest.mark.stage(4)
@THREADED
@given(
    pages=PAGES,
    start=URLS,
    transient=st.dictionaries(URLS, st.integers(1, 4), max_size=6),
    retries=st.integers(0, 3),
    backoff=st.sampled_from([0, 0.1, 0.5, 2]),
    workers=st.integers(1, 4),
    seed=st.integers(0, 99),
)
def test_random_webs_with_transient_failures_agree_with_the_model(
    impl, pages, start, transient, retries, backoff, workers, seed
):
    first = {url: [ConnectionError("reset")] * count for url, count in transient.items()}
    web = Web(pages, first=first, jitter=0.001, seed=seed)
    sleep = Sleeps()
    with switching_often():
        report, call = crawl_report(
            impl, start, web, retries=retries, backoff=backoff, sleep=sleep, workers=workers
        )
    exhausted = {url for url, count in transient.items() if count > retries}
    expected = bfs(pages, start, failed=exhausted.__contains__)
    assert report.pages == expected, (
        f"{call}.pages over {pages}, failing first {transient}, returned {report.pages}; the "
        f"model says {expected}"
    )
    failed = [u for u in expected if u in exhausted or not isinstance(pages.get(u), list)]
    assert sorted(report.failed) == sorted(failed), (
        f"{call}.failed has {sorted(report.failed)}; expected {sorted(failed)} (pages never "
        "fetched: transient failures beyond the retries, permanent failures, 404s)"
    )
    calls = {u: min(transient.get(u, 0), retries) + 1 for u in expected}
    assert report.attempts == sum(calls.values()) == sum(web.calls.values()), (
        f"{call}.attempts is {report.attempts}, fetch was called {sum(web.calls.values())} "
        f"times; expected {sum(calls.values())} (one attempt plus one per retry)"
    )
    waits = sorted(backoff * 2**k for u in expected for k in range(calls[u] - 1))
    assert sorted(sleep.seconds) == waits, (
        f"{call} slept {sorted(sleep.seconds)}; expected {waits} (backoff * 2**k before retry k)"
    )
