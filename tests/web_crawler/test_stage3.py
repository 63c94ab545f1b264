"""Stage 3: limits and politeness (spec: stages/web_crawler/stage3.md).

Threaded tests shake the timing (threads switch every 10 µs, fetch and robots
sleep at random) and assert what holds for every interleaving.
"""

from __future__ import annotations

import random

import pytest

from tests.web_crawler.web import (
    Call,
    Gate,
    Robots,
    Web,
    accepts,
    bfs,
    crawl,
    example_calls,
    expect,
    fetched_once,
    ident,
    no_problems,
    random_web,
    refuses,
    replay_calls,
)

pytestmark = pytest.mark.stage(3)

A = "http://a.com/"
B = "http://b.com/"


@pytest.mark.parametrize("example", example_calls("web_crawler", 3))
def test_the_spec_example_table_holds(impl, example):
    replay_calls(impl, *example)


def race_web(slow: float = 0.15) -> Web:
    """The short path to ``deep`` goes through a slow page; a longer one is fast."""
    pages = {
        A: [A + "slow", A + "fast"],
        A + "slow": [A + "deep"],
        A + "fast": [A + "f2"],
        A + "f2": [A + "f3", A + "deep"],
        A + "f3": [A + "deep"],
        A + "deep": [A + "deeper"],
    }
    return Web(pages, delays={A + "slow": slow}, jitter=0.002)


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_max_depth_counts_the_shortest_path_even_when_a_longer_path_is_fetched_first(
    impl, shaken, workers
):
    for max_depth, expected in [
        (2, [A, A + "slow", A + "fast", A + "deep", A + "f2"]),
        (3, [A, A + "slow", A + "fast", A + "deep", A + "f2", A + "deeper", A + "f3"]),
    ]:
        web = race_web()
        result, call = crawl(impl, A, web, workers=workers, max_depth=max_depth)
        expect(
            sorted(result),
            sorted(expected),
            f"sorted({call})",
            "deep is 2 links from the start by the short (slow) path and deeper 3: a page's "
            "depth is its shortest path's, not the depth of the first path that found it",
        )
        expect(
            result,
            expected,
            call,
            "the right pages, in breadth-first order",
        )


def test_max_depth_zero_fetches_only_the_start(impl):
    web = race_web(slow=0)
    result, call = crawl(impl, A, web, max_depth=0)
    expect(result, [A], call, "max_depth=0: only the start")
    expect(web.order, [A], f"the fetch calls of {call}", "nothing deeper is fetched")


def test_pages_deeper_than_max_depth_are_never_fetched(impl, shaken):
    for seed in range(10):
        rng = random.Random(seed)
        pages = random_web(rng, pages=15, links=4)
        start = next(iter(pages))
        for max_depth in range(4):
            web = Web(pages, jitter=0.001, seed=seed)
            result, call = crawl(impl, start, web, workers=3, max_depth=max_depth)
            expected = bfs(pages, start, max_depth=max_depth)
            expect(
                result,
                expected,
                f"{call} on site {seed}: {pages}",
                "pages farther than max_depth (shortest path) are not visited",
            )
            expect(
                sorted(web.order),
                sorted(expected),
                f"the fetch calls of {call}",
                "exactly the visited pages are fetched, once each",
            )


def test_max_pages_gives_the_first_pages_of_the_unlimited_order(impl, shaken):
    for seed in range(6):
        rng = random.Random(seed)
        pages = random_web(rng, pages=10, links=4, hosts=("a.com", "b.com"))
        start = next(iter(pages))
        unlimited = bfs(pages, start, hosts=["b.com"])
        for max_pages in range(len(unlimited) + 2):
            web = Web(pages, jitter=0.001, seed=seed)
            result, call = crawl(impl, start, web, workers=4, max_pages=max_pages, hosts=["b.com"])
            expect(
                result,
                unlimited[:max_pages],
                f"{call} on site {seed}: {pages}",
                "max_pages: exactly the first max_pages URLs of the breadth-first order",
            )
            expect(
                sorted(web.order),
                sorted(result),
                f"the fetch calls of {call}",
                "only the pages in the result are fetched",
            )


def test_max_pages_zero_fetches_nothing_and_asks_robots_nothing(impl):
    robots = Robots()
    web = Web({A: [A + "x"]}, robots=robots)
    result, call = crawl(impl, A, web, max_pages=0, robots=robots)
    expect(result, [], call, "max_pages=0 returns []")
    expect(web.order, [], f"the fetch calls of {call}", "max_pages=0 fetches nothing")
    expect(
        dict(robots.asked),
        {},
        f"the robots calls of {call}",
        "no URL is about to be fetched, so robots is not asked",
    )


def test_hosts_adds_hosts_to_follow_compared_lowercase(impl):
    pages = {A: [B, "http://c.com/", "http://d.com/"], B: [B + "x"], "http://c.com/": []}
    web = Web(pages)
    result, call = crawl(impl, A, web, hosts=("B.COM", "c.com"))
    expected = [A, B, "http://c.com/", B + "x"]
    expect(result, expected, call, "hosts are followed, compared lowercase; d.com is not")


@pytest.mark.parametrize(
    "hosts",
    [
        pytest.param(lambda: [], id="[]"),
        pytest.param(lambda: ["b.com"], id="['b.com']"),
        pytest.param(lambda: (h for h in ["b.com"]), id="generator"),
        pytest.param(lambda: {"B.com"}, id="{'B.com'}"),
    ],
)
def test_the_start_host_is_always_followed(impl, hosts):
    web = Web({A: [A + "x", B]})
    result, call = crawl(impl, A, web, hosts=hosts())
    expected = [A, A + "x"] + ([B] if hosts() else [])
    expect(result, expected, call, "the start URL's host is always followed")


def many_hosts_web(hosts: int, pages_per_host: int) -> dict[str, list[str]]:
    names = [f"h{i}.com" for i in range(hosts)]
    pages = {A: [f"http://{name}/" for name in names]}
    for name in names:
        urls = [f"http://{name}/p{j}" for j in range(pages_per_host)]
        pages[f"http://{name}/"] = [*urls, A]
        for url in urls:
            pages[url] = [f"http://{other}/p0" for other in names[:3]]
    return pages


def wide_hosts_web(hosts: int, pages_per_host: int) -> dict[str, list[str]]:
    """The start links straight to ``pages_per_host`` pages of each host, interleaved, so
    many URLs of a host wait in the same level; each page links back to the start."""
    names = [f"h{i}.com" for i in range(hosts)]
    links = [f"http://{name}/p{j}" for j in range(pages_per_host) for name in names]
    return {A: links, **{url: [A, url + "/next"] for url in links}}


def test_robots_is_asked_exactly_once_per_followed_host_even_with_many_workers(impl, shaken):
    pages = wide_hosts_web(hosts=6, pages_per_host=5)
    names = ["a.com"] + [f"h{i}.com" for i in range(6)]
    for seed in range(6):
        robots = Robots({"h1.com": ["/p1"]}, jitter=0.004, seed=seed)
        web = Web(pages, jitter=0.003, seed=seed, robots=robots)
        result, call = crawl(impl, A, web, workers=8, hosts=names[1:], robots=robots)
        counts = dict(robots.asked)
        expect(
            counts,
            dict.fromkeys(names, 1),
            f"the robots calls of {call}",
            "robots is called exactly once per followed host, even with many workers",
        )
        expect(
            result,
            bfs(pages, A, hosts=names, rules={"h1.com": ["/p1"]}),
            call,
            "breadth first, without the disallowed URLs",
        )


def test_robots_has_returned_before_any_fetch_of_its_host_starts(impl, shaken):
    pages = wide_hosts_web(hosts=3, pages_per_host=8)
    robots = Robots(jitter=0.02)
    web = Web(pages, jitter=0.002, robots=robots)
    names = ["h0.com", "h1.com", "h2.com"]
    result, call = crawl(impl, A, web, workers=8, hosts=names, robots=robots)
    no_problems(web, call)
    expect(result, bfs(pages, A, hosts=names), call, "every page visited")


def test_robots_is_never_asked_about_a_host_the_crawl_does_not_follow(impl):
    robots = Robots()
    web = Web({A: [B, "http://c.com/", A + "x"], A + "x": [B + "y"]}, robots=robots)
    result, call = crawl(impl, A, web, robots=robots, hosts=["c.com"])
    expect(result, [A, "http://c.com/", A + "x"], call, "b.com is not followed")
    expect(
        sorted(robots.asked),
        ["a.com", "c.com"],
        f"the robots calls of {call}",
        "robots is asked only about followed hosts",
    )


def test_robots_is_not_asked_about_a_host_none_of_whose_urls_is_fetched(impl):
    pages = {A: [A + "1", A + "2", B], A + "1": ["http://c.com/"]}
    for options, asked in [
        ({"max_depth": 1}, ["a.com", "b.com"]),  # c.com is only at depth 2
        ({"max_pages": 3}, ["a.com"]),  # b.com comes 4th
    ]:
        robots = Robots()
        web = Web(pages, robots=robots)
        _, call = crawl(impl, A, web, robots=robots, hosts=["b.com", "c.com"], **options)
        expect(
            sorted(robots.asked),
            asked,
            f"the robots calls of {call}",
            "robots is asked about a host when one of its URLs is about to be fetched",
        )


def test_a_disallowed_url_is_not_fetched_not_returned_and_takes_no_place(impl, shaken):
    pages = {
        A: [A + "private/1", A + "ok1", A + "ok2", A + "private/2"],
        A + "private/1": [A + "hidden"],
        A + "ok1": [A + "ok3", A + "private/3"],
    }
    robots = Robots({"a.com": ["/private"]})
    web = Web(pages, robots=robots, jitter=0.002)
    result, call = crawl(impl, A, web, workers=3, robots=robots)
    expect(
        result,
        [A, A + "ok1", A + "ok2", A + "ok3"],
        call,
        "disallowed URLs are never visited; what only they link to is never found",
    )
    assert not [url for url in web.order if "private" in url], (
        f"{call} fetched {web.order}: a disallowed URL is never fetched"
    )
    robots = Robots({"a.com": ["/private"]})
    web = Web(pages, robots=robots)
    result, call = crawl(impl, A, web, robots=robots, max_pages=3)
    expect(result, [A, A + "ok1", A + "ok2"], call, "disallowed URLs take no place in max_pages")


@pytest.mark.parametrize(
    ("prefixes", "path", "allowed"),
    [
        (["/private"], "/privateer", False),
        (["/private"], "/private", False),
        (["/private"], "/private/x", False),
        (["/private"], "/pri", True),
        (["/private"], "/Private", True),
        (["/private/"], "/private", True),
        (["/search"], "/search?q=1", False),
        (["/x", "/y"], "/y/z", False),
        (["/any"], "/anything", False),
        ([], "/anything", True),
        (["/a#b"], "/a", True),
    ],
    ids=ident,
)
def test_a_url_is_disallowed_when_its_path_starts_with_a_prefix(impl, prefixes, path, allowed):
    url = "http://a.com" + path
    robots = Robots({"a.com": prefixes})
    result, call = crawl(impl, A, Web({A: [url]}, robots=robots), robots=robots)
    expect(
        result,
        [A, url] if allowed else [A],
        call,
        f"robots says {prefixes}: the path of {url} is urlsplit(url).path, tested as a "
        "plain string prefix",
    )


def test_the_path_of_a_bare_host_is_empty(impl):
    robots = Robots({"a.com": ["/"]})
    web = Web({"http://a.com": ["http://a.com/x"]}, robots=robots)
    result, call = crawl(impl, "http://a.com", web, robots=robots)
    expect(
        result,
        ["http://a.com"],
        call,
        "the path of http://a.com is '', which '/' does not disallow; /x is disallowed",
    )


def test_a_disallowed_start_url_gives_an_empty_result_and_fetches_nothing(impl, shaken):
    robots = Robots({"a.com": ["/"]})
    web = Web({A: [A + "x"]}, robots=robots)
    result, call = crawl(impl, A, web, workers=4, robots=robots)
    expect(result, [], call, "the start URL is disallowed")
    expect(web.order, [], f"the fetch calls of {call}", "nothing is fetched")


def test_items_of_the_robots_answer_that_are_not_str_are_ignored(impl):
    web = Web({A: [A + "x", A + "y"]})

    def robots(host):
        return [None, 3, b"/x", "/y"]

    result, call = crawl(impl, A, web, robots=robots)
    expect(result, [A, A + "x"], call, "robots' non-str items are ignored; /y is disallowed")


def test_a_robots_that_raises_disallows_nothing(impl):
    web = Web({A: [A + "x", B], B: [B + "y"]})

    def robots(host):
        if host == "b.com":
            raise ConnectionError("no robots.txt")
        return ["/x"]

    result, call = crawl(impl, A, web, robots=robots, hosts=["b.com"])
    expect(result, [A, B, B + "y"], call, "a robots that raises disallows nothing on its host")


@pytest.mark.parametrize(("workers", "per_host"), [(4, 1), (4, 2), (6, 3), (3, 3)])
def test_per_host_caps_the_fetches_to_one_host_and_workers_the_total(
    impl, shaken, workers, per_host
):
    pages = many_hosts_web(hosts=3, pages_per_host=8)
    names = ["h0.com", "h1.com", "h2.com"]
    web = Web(pages, jitter=0.004)
    result, call = crawl(impl, A, web, workers=workers, per_host=per_host, hosts=names)
    busiest = max(web.host_peak.items(), key=lambda item: item[1])
    assert busiest[1] <= per_host, (
        f"{call}: {busiest[1]} fetches to {busiest[0]} were in flight at once; at most "
        f"per_host={per_host}"
    )
    assert web.peak <= workers, (
        f"{call}: {web.peak} fetches were in flight at once; at most workers={workers}"
    )
    expect(result, bfs(pages, A, hosts=names), call, "per_host changes no result")
    fetched_once(web, call)


def test_workers_caps_the_total_across_hosts(impl, shaken):
    names = ["h0.com", "h1.com", "h2.com"]
    pages = wide_hosts_web(hosts=3, pages_per_host=4)
    for workers, per_host in [(2, None), (3, 2), (2, 5)]:
        web = Web(pages, jitter=0.004)
        result, call = crawl(impl, A, web, workers=workers, per_host=per_host, hosts=names)
        assert web.peak <= workers, (
            f"{call}: {web.peak} fetches were in flight at once, over {len(names)} hosts; at "
            f"most workers={workers} in total"
        )
        expect(result, bfs(pages, A, hosts=names), call, "the caps change no result")


@pytest.mark.parametrize(("workers", "hosts"), [(3, 3), (4, 2)])
def test_other_hosts_go_ahead_while_a_host_is_at_its_cap(impl, workers, hosts):
    names = [f"h{i}.com" for i in range(hosts)]
    # The start links to 4 * workers pages of each host, one host after the other.
    links = [f"http://{name}/p{j}" for name in names for j in range(4 * workers)]
    per_host = workers // hosts
    gate = Gate(
        links,
        workers,
        f"per_host={per_host} on {hosts} hosts allows {workers} "
        "fetches at once, so workers fetches must be in flight: a URL whose host is at "
        "its cap waits without holding a worker",
    )
    web = Web({A: links}, gate=gate)
    result, call = crawl(impl, A, web, workers=workers, per_host=per_host, hosts=names)
    no_problems(web, call)
    busiest = max(web.host_peak.values())
    assert busiest <= per_host, f"{call}: {busiest} fetches to one host at once"
    expect(result, [A, *links], call, "every page visited")


def test_a_per_host_above_workers_changes_nothing(impl, shaken):
    pages = many_hosts_web(hosts=2, pages_per_host=6)
    web = Web(pages, jitter=0.003)
    result, call = crawl(impl, A, web, workers=2, per_host=50, hosts=["h0.com", "h1.com"])
    assert web.peak <= 2, f"{call}: {web.peak} fetches in flight at once; at most workers=2"
    expect(result, bfs(pages, A, hosts=["h0.com", "h1.com"]), call, "the same result")


def test_every_option_together_agrees_with_the_model(impl, shaken):
    for seed in range(12):
        rng = random.Random(seed)
        pages = random_web(rng, pages=8, links=4, hosts=("a.com", "b.com", "c.com"))
        rules = {"a.com": ["/p1"], "b.com": ["/p"]} if seed % 2 else {"c.com": ["/missing"]}
        options = {
            "workers": rng.choice([1, 2, 5]),
            "max_depth": rng.choice([None, 1, 2, 3]),
            "max_pages": rng.choice([None, 0, 3, 7]),
            "hosts": rng.choice([[], ["B.com"], ["b.com", "c.com"]]),
            "per_host": rng.choice([None, 1, 2]),
        }
        robots = Robots(rules, jitter=0.002, seed=seed)
        web = Web(pages, jitter=0.002, seed=seed, robots=robots)
        start = next(iter(pages))
        result, call = crawl(impl, start, web, robots=robots, **options)
        expected = bfs(
            pages,
            start,
            rules=rules,
            hosts=options["hosts"],
            max_depth=options["max_depth"],
            max_pages=options["max_pages"],
        )
        expect(
            result,
            expected,
            f"{call} on site {seed}: {pages}, robots {rules}",
            "every limit at once, as the spec says",
        )
        fetched_once(web, call)
        no_problems(web, call)
        assert max(robots.asked.values(), default=0) <= 1, (
            f"{call}: robots was asked {dict(robots.asked)}; at most once per host"
        )


VALID = {"max_depth": 2, "max_pages": 5, "per_host": 1, "hosts": ["b.com"], "robots": Robots()}


BAD_TYPES = [
    ("max_depth", 1.0),
    ("max_depth", True),
    ("max_depth", "2"),
    ("max_pages", 2.0),
    ("max_pages", False),
    ("per_host", 1.5),
    ("per_host", True),
    ("hosts", "b.com"),
    ("hosts", 5),
    ("hosts", [b"b.com"]),
    ("hosts", ["b.com", None]),
    ("robots", ["/private"]),
    ("robots", "robots.txt"),
]


@pytest.mark.parametrize(("name", "value"), BAD_TYPES, ids=ident)
def test_an_option_of_the_wrong_type_raises_type_error(impl, name, value):
    accepts(impl, "crawl", **{name: VALID[name]})
    web = Web({A: []})
    refuses(
        impl,
        TypeError,
        Call("crawl", (A, web), {name: value}),
        f"{name} must be {'an iterable of str' if name == 'hosts' else 'an int or None'}"
        if name != "robots"
        else "robots must be callable or None",
    )


@pytest.mark.parametrize(
    ("name", "value"), [("max_depth", -1), ("max_pages", -1), ("per_host", 0), ("per_host", -2)]
)
def test_an_option_out_of_range_raises_value_error(impl, name, value):
    accepts(impl, "crawl", **{name: VALID[name]})
    web = Web({A: []})
    refuses(
        impl,
        ValueError,
        Call("crawl", (A, web), {name: value}),
        "max_depth and max_pages are at least 0, per_host at least 1",
    )


def test_options_are_checked_before_robots_is_asked_or_anything_fetched(impl):
    accepts(impl, "crawl", robots=Robots(), max_pages=1, per_host=1)
    robots = Robots()
    web = Web({A: []})
    refuses(
        impl,
        TypeError,
        Call("crawl", (A, web), {"robots": robots, "max_pages": 0, "per_host": "1"}),
        "types first, then values, before anything else",
        "per_host",
    )
    refuses(
        impl,
        ValueError,
        Call("crawl", (A, web), {"robots": robots, "max_depth": -1}),
        "values are checked before anything is fetched",
        "max_depth",
    )
    expect(
        dict(robots.asked),
        {},
        "robots calls of the refused crawls",
        "nothing runs before the arguments are checked",
    )


def test_the_defaults_keep_round_two_behaviour(impl, shaken):
    pages = random_web(random.Random(5), pages=15, links=5, hosts=("a.com", "b.com"))
    start = next(iter(pages))
    web = Web(pages, jitter=0.002)
    result, call = crawl(
        impl,
        start,
        web,
        workers=3,
        max_depth=None,
        max_pages=None,
        hosts=(),
        robots=None,
        per_host=None,
    )
    expect(result, bfs(pages, start), call, "the defaults change nothing")
