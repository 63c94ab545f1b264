"""Stage 4: failures (spec: stages/web_crawler/stage4.md).

The tests pass a ``sleep`` that records its argument and returns at once, so
no test waits for a backoff.
"""

from __future__ import annotations

import random

import pytest

from tests.web_crawler.web import (
    Call,
    Robots,
    Sleeps,
    Web,
    accepts,
    bfs,
    crawl,
    crawl_report,
    example_calls,
    expect,
    ident,
    no_problems,
    random_web,
    refuses,
    replay_calls,
)

pytestmark = pytest.mark.stage(4)

A = "http://a.com/"


@pytest.mark.parametrize("example", example_calls("web_crawler", 4))
def test_the_spec_example_table_holds(impl, example):
    replay_calls(impl, *example)


def flaky_web(failures: list[object], **options) -> Web:
    """The start links to x and y; x fails with ``failures`` first, then links to z."""
    pages = {A: [A + "x", A + "y"], A + "x": [A + "z"], A + "y": [], A + "z": []}
    return Web(pages, first={A + "x": failures}, **options)


@pytest.mark.parametrize("failures", [1, 2])
def test_a_transient_failure_is_retried_and_the_page_then_fetched(impl, failures):
    web, sleep = flaky_web([ConnectionError("reset")] * failures), Sleeps()
    report, call = crawl_report(impl, A, web, sleep=sleep)
    expect(
        report.pages,
        [A, A + "x", A + "y", A + "z"],
        f"{call}.pages",
        "a page fetched on a retry is visited and its links are followed",
    )
    expect(report.failed, {}, f"{call}.failed", "a page fetched on a retry is not failed")
    expect(report.attempts, 4 + failures, f"{call}.attempts", "every fetch call counts")
    expect(
        web.calls[A + "x"],
        failures + 1,
        f"fetch calls of x in {call}",
        "a transient failure is retried until the page answers",
    )


def test_a_transient_failure_is_retried_up_to_retries_more_times(impl):
    for retries in range(4):
        web, sleep = flaky_web([TimeoutError("slow")] * 10), Sleeps()
        report, call = crawl_report(impl, A, web, retries=retries, sleep=sleep)
        expect(
            web.calls[A + "x"],
            retries + 1,
            f"fetch calls of x in {call}",
            "a transient failure is retried up to `retries` more times",
        )
        expect(
            report.pages,
            [A, A + "x", A + "y"],
            f"{call}.pages",
            "a page whose every attempt failed is visited, with no links",
        )
        expect(sorted(report.failed), [A + "x"], f"{call}.failed", "x never fetched")
        expect(report.attempts, retries + 3, f"{call}.attempts", "every fetch call counts")


@pytest.mark.parametrize(
    "error",
    [
        ConnectionError("x"),
        ConnectionResetError("x"),
        ConnectionRefusedError("x"),
        ConnectionAbortedError("x"),
        BrokenPipeError("x"),
        TimeoutError("x"),
        ConnectionResetError(104, "reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_connection_and_timeout_errors_and_their_subclasses_are_transient(impl, error):
    web, sleep = flaky_web([error]), Sleeps()
    report, call = crawl_report(impl, A, web, sleep=sleep)
    expect(
        web.calls[A + "x"],
        2,
        f"fetch calls of x in {call}",
        f"{type(error).__name__} is transient (a ConnectionError or TimeoutError): retried",
    )
    expect(report.failed, {}, f"{call}.failed", "the retry answered")


@pytest.mark.parametrize(
    "error",
    [
        OSError("x"),
        LookupError("404"),
        ValueError("x"),
        RuntimeError("x"),
        KeyError("x"),
        FileNotFoundError("x"),
        PermissionError("x"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_other_exception_is_permanent_and_never_retried(impl, error):
    web, sleep = flaky_web([error]), Sleeps()
    report, call = crawl_report(impl, A, web, sleep=sleep)
    expect(
        web.calls[A + "x"],
        1,
        f"fetch calls of x in {call}",
        f"{type(error).__name__} is permanent: no retry",
    )
    expect(sorted(report.failed), [A + "x"], f"{call}.failed", "x never fetched")
    expect(sleep.seconds, [], f"the sleeps of {call}", "no retry, no wait")


def test_the_waits_are_backoff_times_two_to_the_k_through_sleep(impl):
    for backoff, retries in [(0.1, 2), (0.5, 4), (1, 3), (0, 2), (0.25, 1)]:
        web, sleep = flaky_web([TimeoutError()] * 10), Sleeps()
        _, call = crawl_report(impl, A, web, retries=retries, backoff=backoff, sleep=sleep)
        expected = [backoff * 2**k for k in range(retries)]
        expect(
            sleep.seconds,
            expected,
            f"the sleeps of {call}",
            "sleep(backoff * 2**k) before retry k, k from 0",
        )


def test_links_that_raise_a_transient_error_while_read_are_retried(impl):
    attempts = []

    def fetch(url):
        def links():
            yield A + "partial"
            raise ConnectionResetError("connection lost mid-page")

        if url == A + "x":
            attempts.append(url)
            return links() if len(attempts) == 1 else iter([A + "z"])
        return {A: [A + "x"]}.get(url, [])

    report, call = crawl_report(impl, A, fetch, sleep=Sleeps())
    expect(
        report.pages,
        [A, A + "x", A + "z"],
        f"{call}.pages",
        "an error while reading the links counts as the fetch's: transient, retried",
    )
    expect(len(attempts), 2, f"fetch calls of x in {call}", "one retry answered")


def test_crawl_never_retries(impl):
    web = flaky_web([ConnectionError("reset")])
    result, call = crawl(impl, A, web)
    expect(result, [A, A + "x", A + "y"], call, "crawl makes one attempt: x failed, no links")
    expect(web.calls[A + "x"], 1, f"fetch calls of x in {call}", "crawl never retries")


def test_a_failed_reason_is_one_line_naming_the_last_exception(impl):
    pages = {A: [A + str(i) for i in range(4)]}
    failures = {
        A + "0": [ValueError("bad\nmulti-line\nmessage")],
        A + "1": [TimeoutError()] * 5,
        A + "2": [KeyError("")],
        A + "3": [
            ConnectionResetError("1"),
            BrokenPipeError("two\nlines"),
            ConnectionAbortedError(),
        ],
    }
    web = Web(pages, first=failures)
    report, call = crawl_report(impl, A, web, sleep=Sleeps())
    expect(sorted(report.failed), sorted(failures), f"{call}.failed", "every page failed")
    last = {url: type(errors[-1]).__name__ for url, errors in failures.items()}
    for url, reason in report.failed.items():
        assert isinstance(reason, str) and last[url] in reason and "\n" not in reason, (
            f"{call}.failed[{url!r}] is {reason!r}; expected a one-line reason (a str without "
            f"a newline) that names the last exception's type, {last[url]}"
        )


def test_without_transient_failures_pages_equals_what_crawl_returns(impl, shaken):
    for seed in range(8):
        rng = random.Random(seed)
        pages: dict[str, object] = dict(
            random_web(rng, pages=10, links=4, hosts=("a.com", "b.com"))
        )
        for url in rng.sample(sorted(pages), 3):
            pages[url] = rng.choice([OSError, ValueError("v"), LookupError])
        start = next(iter(pages))
        options = {
            "workers": rng.choice([1, 3]),
            "max_depth": rng.choice([None, 2]),
            "max_pages": rng.choice([None, 5]),
            "hosts": ["b.com"],
            "per_host": rng.choice([None, 1]),
        }
        expected, crawl_call = crawl(impl, start, Web(pages, jitter=0.001, seed=seed), **options)
        report, call = crawl_report(
            impl, start, Web(pages, jitter=0.001, seed=seed), sleep=Sleeps(), **options
        )
        expect(
            report.pages,
            expected,
            f"{call}.pages on site {seed}",
            f"with no transient failure, pages equals what {crawl_call} returns",
        )


def test_a_retried_url_keeps_its_place_in_the_breadth_first_order(impl, shaken):
    for seed in range(8):
        rng = random.Random(seed)
        pages = random_web(rng, pages=15, links=4)
        flaky = rng.sample(sorted(pages), 5)
        first = {
            url: [rng.choice([ConnectionError, TimeoutError])] * rng.randrange(1, 3)
            for url in flaky
        }
        start = next(iter(pages))
        web = Web(pages, first=first, jitter=0.003, seed=seed)
        report, call = crawl_report(impl, start, web, workers=4, sleep=Sleeps())
        expect(
            report.pages,
            bfs(pages, start),
            f"{call}.pages on site {seed}",
            "a retried URL keeps its place: the order is the one without failures",
        )
        expect(
            sorted(report.failed),
            sorted(u for u in report.pages if u not in pages),
            f"{call}.failed",
            "every flaky page answered within 2 retries; only 404s fail",
        )
        no_problems(web, call)


def test_retries_under_threads_keep_every_earlier_rule(impl, shaken):
    names = ["a.com", "b.com", "c.com"]
    for seed in range(6):
        rng = random.Random(seed)
        pages = random_web(rng, pages=8, links=4, hosts=tuple(names))
        first = {url: [ConnectionResetError()] * rng.randrange(4) for url in pages}
        rules = {"b.com": ["/p1"]}
        robots = Robots(rules, jitter=0.002, seed=seed)
        web = Web(pages, first=first, jitter=0.002, seed=seed, robots=robots)
        sleep = Sleeps()
        start = next(iter(pages))
        report, call = crawl_report(
            impl, start, web, workers=5, per_host=2, hosts=names, robots=robots, sleep=sleep
        )
        never = {url for url, failures in first.items() if len(failures) == 3}
        expected = bfs(pages, start, hosts=names, rules=rules, failed=never.__contains__)
        expect(
            report.pages,
            expected,
            f"{call}.pages on site {seed}",
            "pages fetched on a retry keep their place and their links",
        )
        failed = [url for url in expected if url in never or url not in pages]
        expect(
            sorted(report.failed),
            sorted(failed),
            f"{call}.failed",
            "the pages whose three attempts all failed, and the 404s",
        )
        expect(
            report.attempts,
            sum(web.calls.values()),
            f"{call}.attempts",
            "attempts counts every fetch call",
        )
        assert max(robots.asked.values(), default=0) <= 1, (
            f"{call}: robots was asked {dict(robots.asked)}; once per host"
        )
        assert max(web.host_peak.values(), default=0) <= 2 and web.peak <= 5, (
            f"{call}: {web.peak} fetches in flight, {max(web.host_peak.values())} to one host; "
            "at most workers=5 and per_host=2, retries included"
        )
        no_problems(web, call)


def test_a_page_counts_once_in_max_pages_however_many_attempts(impl):
    web = flaky_web([ConnectionError()] * 2)
    report, call = crawl_report(impl, A, web, max_pages=3, sleep=Sleeps())
    expect(report.pages, [A, A + "x", A + "y"], f"{call}.pages", "x took 3 attempts: one page")
    expect(report.attempts, 5, f"{call}.attempts", "1 + 3 + 1 fetch calls")


def test_a_sleep_that_raises_fails_the_page_without_escaping(impl):
    def sleep(seconds):
        raise RuntimeError("no sleeping here")

    web = flaky_web([ConnectionError()])
    report, call = crawl_report(impl, A, web, sleep=sleep)
    expect(report.pages, [A, A + "x", A + "y"], f"{call}.pages", "x failed: no links")
    expect(
        sorted(report.failed),
        [A + "x"],
        f"{call}.failed",
        "an exception from sleep ends the page's attempts",
    )
    assert "RuntimeError" in report.failed[A + "x"], (
        f"{call}.failed[{A + 'x'!r}] is {report.failed[A + 'x']!r}; the reason names the last "
        "exception's type, RuntimeError"
    )


def test_the_default_backoff_waits_through_time_sleep_by_default(impl):
    web = flaky_web([ConnectionError()])
    report, call = crawl_report(impl, A, web, backoff=0.001)
    expect(report.failed, {}, f"{call}.failed", "the retry answered (after a real 1 ms sleep)")


VALID = {
    "retries": 1,
    "backoff": 0.2,
    "sleep": Sleeps(),
    "workers": 2,
    "max_depth": 1,
    "max_pages": 3,
    "per_host": 1,
    "hosts": ["b.com"],
    "robots": Robots(),
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("retries", True),
        ("retries", 2.0),
        ("retries", "2"),
        ("retries", None),
        ("backoff", True),
        ("backoff", "0.1"),
        ("backoff", None),
        ("sleep", None),
        ("sleep", 0.1),
        ("workers", 1.0),
        ("max_pages", "3"),
        ("hosts", "a.com"),
        ("robots", 1),
    ],
    ids=ident,
)
def test_an_argument_of_the_wrong_type_raises_type_error(impl, name, value):
    accepts(impl, "crawl_report", **{name: VALID[name]})
    web = Web({A: []})
    refuses(
        impl, TypeError, Call("crawl_report", (A, web), {name: value}), f"{name} has the wrong type"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("retries", -1),
        ("backoff", -0.5),
        ("backoff", -1),
        ("backoff", float("nan")),
        ("workers", 0),
        ("max_depth", -1),
        ("per_host", 0),
    ],
    ids=ident,
)
def test_an_argument_out_of_range_raises_value_error(impl, name, value):
    accepts(impl, "crawl_report", **{name: VALID[name]})
    web = Web({A: []})
    refuses(
        impl,
        ValueError,
        Call("crawl_report", (A, web), {name: value}),
        f"{name}={value!r} is out of range",
    )


def test_types_are_checked_before_values(impl):
    accepts(impl, "crawl_report", retries=1, sleep=Sleeps())
    web = Web({A: []})
    refuses(
        impl,
        TypeError,
        Call("crawl_report", ("ftp://a.com/", web), {"retries": 1.0}),
        "the type of retries before the start URL's value",
    )
    refuses(
        impl,
        TypeError,
        Call("crawl_report", (A, web), {"retries": -1, "sleep": None}),
        "the type of sleep before the value of retries",
        "sleep",
    )


def test_crawl_report_fetches_one_page_at_a_time_by_default(impl):
    pages = {A: [f"{A}{i}" for i in range(6)]}
    web = Web(pages, jitter=0.002)
    report, call = crawl_report(impl, A, web, sleep=Sleeps())
    expect(report.pages, bfs(pages, A), f"{call}.pages", "breadth first")
    assert web.peak == 1, f"{call}: {web.peak} fetches at once; workers defaults to 1"


def test_crawl_report_returns_a_crawl_report(impl):
    report, call = crawl_report(impl, A, Web({A: []}), sleep=Sleeps())
    assert isinstance(report, impl.CrawlReport), (
        f"{call} returned {report!r}; expected a CrawlReport"
    )
    expect(
        (report.pages, report.failed, report.attempts),
        ([A], {}, 1),
        call,
        "pages, failed and attempts of a one-page crawl",
    )
