"""Stage 1: one site, breadth first (spec: stages/web_crawler/stage1.md)."""

from __future__ import annotations

import random
from urllib.parse import urldefrag

import pytest

from tests.web_crawler.web import (
    Call,
    Web,
    bfs,
    crawl,
    example_calls,
    expect,
    fetched_once,
    first_difference,
    ident,
    no_problems,
    random_web,
    refuses,
    replay_calls,
)

pytestmark = pytest.mark.stage(1)

A = "http://a.com/"


@pytest.mark.parametrize("example", example_calls("web_crawler", 1))
def test_the_spec_example_table_holds(impl, example):
    replay_calls(impl, *example)


def test_the_start_comes_first_then_each_pages_new_links_in_page_order(impl):
    web = Web(
        {
            A: [A + "2", A + "1", A + "3"],
            A + "2": [A + "22", A + "21"],
            A + "1": [A + "11", A + "2"],
            A + "3": [A + "31"],
        }
    )
    result, call = crawl(impl, A, web)
    expected = [A, A + "2", A + "1", A + "3", A + "22", A + "21", A + "11", A + "31"]
    expect(result, expected, call, "breadth first: pages in visit order, links in page order")


def test_a_deep_chain_is_followed_to_its_end(impl):
    chain = {f"{A}{i}": [f"{A}{i + 1}"] for i in range(2000)}
    result, call = crawl(impl, A + "0", Web(chain))
    expected = [f"{A}{i}" for i in range(2001)]
    assert result == expected, (
        f"{call} returned {len(result)} pages, the first different at "
        f"{first_difference(result, expected)}; "
        "expected the 2,001 pages of the chain in order (every reachable page is visited)"
    )


def test_links_to_other_hosts_are_neither_fetched_nor_returned(impl):
    web = Web(
        {
            A: ["http://b.com/", "http://a.com.evil.org/", "http://www.a.com/", A + "x"],
            "http://b.com/": [A + "y"],
        }
    )
    result, call = crawl(impl, A, web)
    expect(result, [A, A + "x"], call, "only links whose host is the start URL's are followed")
    expect(web.order, [A, A + "x"], f"the fetch calls of {call}", "other hosts are never fetched")


def test_the_host_is_compared_lowercase_and_the_scheme_does_not_matter(impl):
    web = Web({A: ["http://A.COM/x", "https://a.com/y", "HTTPS://a.Com/z"]})
    result, call = crawl(impl, A, web)
    expected = [A, "http://A.COM/x", "https://a.com/y", "HTTPS://a.Com/z"]
    expect(
        result,
        expected,
        call,
        "the host is urlsplit(url).hostname, lowercase; http and "
        "https are both followed; URLs are kept as written",
    )


def test_urls_are_compared_exactly_apart_from_the_fragment(impl):
    links = [A + "x", A + "x?", A + "X", A + "x/", A + "x#part", A + "x?#", A + "x?q=1#p"]
    web = Web({A: links})
    result, call = crawl(impl, A, web)
    expected = [A, *dict.fromkeys(urldefrag(link).url for link in links)]
    expect(result, expected, call, "a URL's identity is urldefrag(url).url, compared exactly")
    fetched_once(web, call)


def test_fetch_is_called_with_the_identity_once_per_url(impl):
    web = Web(
        {
            A: [A + "x#1", A + "x#2", A + "x", A + "#top", A],
            A + "x": [A + "x", A, A + "x#3"],
        }
    )
    result, call = crawl(impl, A + "#start", web)
    expect(result, [A, A + "x"], call, "fragments are removed; each page is visited once")
    expect(
        web.order,
        [A, A + "x"],
        f"the fetch calls of {call}",
        "fetch gets the identity, once per URL",
    )
    no_problems(web, call)


@pytest.mark.parametrize(
    "link",
    [
        None,
        7,
        b"http://a.com/bytes",
        ("http://a.com/t",),
        "/relative",
        "relative",
        "mailto:me@a.com",
        "ftp://a.com/file",
        "//a.com/no-scheme",
        "http://",
        "http:///path",
        "http://[::1",
        "javascript:void(0)",
        "",
    ],
    ids=ident,
)
def test_a_link_that_is_not_an_http_url_with_a_host_is_ignored(impl, link):
    web = Web({A: [link, A + "ok"]})
    result, call = crawl(impl, A, web)
    expect(result, [A, A + "ok"], call, f"the link {link!r} is ignored, and the next one followed")


@pytest.mark.parametrize(
    "failure",
    [OSError("down"), ValueError("bad html"), LookupError("404"), RuntimeError, KeyError("x")],
    ids=ident,
)
def test_a_page_whose_fetch_raises_is_visited_and_has_no_links(impl, failure):
    web = Web({A: [A + "bad", A + "good"], A + "bad": failure, A + "good": [A + "after"]})
    result, call = crawl(impl, A, web)
    expected = [A, A + "bad", A + "good", A + "after"]
    expect(
        result,
        expected,
        call,
        f"a fetch raising {failure!r} makes a visited page, in its "
        "place, without links; the crawl goes on",
    )


def test_a_failing_start_page_is_the_whole_result(impl):
    web = Web({})
    result, call = crawl(impl, A, web)
    expect(result, [A], call, "the start page is visited even when its fetch raises")


def test_links_that_raise_while_being_read_make_a_failed_page(impl):
    def links():
        yield A + "lost"
        raise ConnectionResetError("connection lost mid-page")

    pages = {A: [A + "broken", A + "fine"], A + "fine": [A + "kept"]}
    web = Web(pages)
    fetch = web.fetch

    def reading_fails(url):
        return links() if url == A + "broken" else fetch(url)

    result, call = crawl(impl, A, reading_fails)
    expected = [A, A + "broken", A + "fine", A + "kept"]
    expect(
        result,
        expected,
        call,
        "links raising while being read: the page failed and has "
        "no links, not even those read before the error",
    )


@pytest.mark.parametrize("links", [None, 42], ids=ident)
def test_a_fetch_returning_something_not_iterable_makes_a_failed_page(impl, links):
    def fetch(url):
        return links if url == A + "odd" else [A + "odd", A + "next"]

    result, call = crawl(impl, A, fetch)
    expect(
        result,
        [A, A + "odd", A + "next"],
        call,
        f"a fetch returning {links!r} could not be read: a failed page",
    )


def test_links_may_be_any_iterable_such_as_a_generator_or_a_tuple(impl):
    web = Web({A: (A + "x", A + "y"), A + "x": [A + "z"]}, generator=True)
    result, call = crawl(impl, A, web)
    expect(result, [A, A + "x", A + "y", A + "z"], call, "fetch returns an iterable of str")


def test_an_uppercase_scheme_and_a_port_make_a_valid_start_url(impl):
    start = "HTTP://a.com:8080/x#f"
    result, call = crawl(impl, start, Web({}))
    expect(
        result,
        [urldefrag(start).url],
        call,
        "the scheme is compared lowercase; the identity is urldefrag(url).url",
    )


@pytest.mark.parametrize("start", [None, b"http://a.com/", 3, ["http://a.com/"]], ids=ident)
def test_a_start_url_that_is_not_a_str_raises_type_error(impl, start):
    refuses(impl, TypeError, Call("crawl", (start, Web({})), {}), "start_url is a str", "start_url")


@pytest.mark.parametrize("fetch", [None, "fetch", 3, {A: []}], ids=ident)
def test_a_fetch_that_is_not_callable_raises_type_error(impl, fetch):
    refuses(impl, TypeError, Call("crawl", (A, fetch), {}), "fetch is callable", "fetch")


@pytest.mark.parametrize(
    "start",
    [
        "",
        "a.com",
        "a.com/x",
        "/x",
        "ftp://a.com/",
        "http://",
        "http:///x",
        "mailto:me@a.com",
        "//a.com/x",
        "http://[::1",
        "file:///etc/passwd",
    ],
    ids=ident,
)
def test_a_start_url_that_is_not_an_http_url_with_a_host_raises_value_error(impl, start):
    web = Web({})
    refuses(
        impl, ValueError, Call("crawl", (start, web), {}), "an http(s) URL with a host", "start_url"
    )


def test_types_are_checked_before_values(impl):
    refuses(
        impl,
        TypeError,
        Call("crawl", ("a.com", None), {}),
        "all types first (TypeError), then all values (ValueError)",
        "fetch",
    )


def test_random_sites_are_crawled_in_the_models_breadth_first_order(impl):
    for seed in range(30):
        rng = random.Random(seed)
        pages = random_web(rng, pages=12, links=5, hosts=("a.com", "b.com"))
        web = Web(pages)
        start = rng.choice(list(pages))
        result, call = crawl(impl, start, web)
        expect(
            result,
            bfs(pages, start),
            f"{call} on random site {seed}: {pages}",
            "breadth-first order",
        )
        fetched_once(web, call)


SITE_PAGES = 20_000
NAV = [f"http://a.com/nav/{j}" for j in range(9)]


def big_site() -> tuple[str, dict[str, list[str]]]:
    """20,000 pages, 200,000 links: an index links to every page, every page to nine nav pages."""
    articles = [f"http://a.com/article/{i:05d}" for i in range(SITE_PAGES - len(NAV))]
    pages = {articles[0]: articles[1:] + NAV + articles[1:11]}
    for url in articles[1:] + NAV:
        pages[url] = list(NAV)
    return articles[0], pages


@pytest.mark.perf(
    workload="a site of 20,000 pages and 200,000 links (an index page linking to every page, "
    "every page linking to the same nine navigation pages)",
    reference="0.15 s of CPU (under 1.5 s wall, site included, on a loaded 2-core machine)",
    naive="a visited check that scans a list of the URLs found so far takes about 30 s of "
    "CPU, 60 to 100 s on the loaded machine",
)
def test_a_site_of_20000_pages_and_200000_links_is_crawled_in_linear_time(impl):
    start, pages = big_site()
    assert sum(map(len, pages.values())) == 200_000
    result = impl.crawl(start, pages.__getitem__)
    assert len(result) == SITE_PAGES and result[:2] == [start, start.replace("00000", "00001")], (
        f"crawl({start!r}, fetch) over the 20,000-page site returned {len(result)} pages "
        f"starting {result[:2]}; expected all 20,000, the index first"
    )
