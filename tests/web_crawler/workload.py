"""The web_crawler performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` crawls a site of n/10 pages holding n links in
all (ten a page: one to the next page, so every page is reachable, nine to
random pages, some with a fragment) and returns n, the links read. Fetches
are instant: the workload measures the crawler, not the network. From stage 2
it crawls with four workers; from stage 3 it also follows a second host, with
robots rules and limits that cut nothing; from stage 4 it calls
``crawl_report`` on a web where one page in ten fails once with a
``ConnectionError`` (the sleep does not wait).
"""

from __future__ import annotations

import random
from collections import deque
from urllib.parse import urldefrag, urlsplit

STAGE_OPERATIONS = {
    1: "crawl of n/10 pages and n links, one thread",
    2: "the same crawl with workers=4",
    3: "two hosts, robots, max_depth, max_pages and per_host that cut nothing",
    4: "crawl_report, one page in ten failing once with ConnectionError",
}
LINKS_PER_PAGE = 10


def site(n: int, hosts: tuple[str, ...] = ("a.com",)) -> dict[str, list[str]]:
    """n/10 pages (at least 2) with ten links each, spread over ``hosts``."""
    rng = random.Random(n)
    count = max(2, n // LINKS_PER_PAGE)
    urls = [f"http://{hosts[i % len(hosts)]}/p{i}" for i in range(count)]
    pages = {}
    for i, url in enumerate(urls):
        links = [urls[(i + 1) % count]]
        for _ in range(LINKS_PER_PAGE - 1):
            target = rng.choice(urls)
            links.append(target + "#top" if rng.random() < 0.1 else target)
        pages[url] = links
    return pages


def workload(impl: object, n: int, stages: int) -> int:
    """One crawl of a site holding n links, with the options of stages 1..stages; returns n."""
    hosts = ("a.com", "b.com") if stages >= 3 else ("a.com",)
    pages = site(n, hosts)
    start = next(iter(pages))
    options: dict[str, object] = {}
    if stages >= 2:
        options["workers"] = 4
    if stages >= 3:
        options.update(
            hosts=["B.com"],
            robots=lambda host: ["/private"],
            max_depth=len(pages),
            max_pages=len(pages),
            per_host=2,
        )
    if stages >= 4:
        flaky = {url for i, url in enumerate(pages) if i % 10 == 5}
        attempted: set[str] = set()

        def fetch(url: str) -> list[str]:
            if url in flaky and url not in attempted:
                attempted.add(url)
                raise ConnectionError("reset")
            return pages[url]

        report = impl.crawl_report(start, fetch, sleep=lambda seconds: None, **options)
        assert len(report.pages) == len(pages), "the workload's site is fully reachable"
        return n
    result = impl.crawl(start, pages.__getitem__, **options)
    assert len(result) == len(pages), "the workload's site is fully reachable"
    return n


def visited_list_crawl(start: str, fetch) -> list[str]:
    """The naive design the stage-1 spec names: breadth first, but "seen" is a list.

    ``link not in visited`` scans every URL found so far, so a crawl costs
    O(links x pages) instead of O(links).
    """
    host = urlsplit(start).hostname
    visited = [start]
    queue = deque([start])
    while queue:
        url = queue.popleft()
        try:
            links = list(fetch(url))
        except Exception:
            continue
        for link in links:
            if not isinstance(link, str):
                continue
            link = urldefrag(link).url
            if urlsplit(link).hostname == host and link not in visited:
                visited.append(link)
                queue.append(link)
    return visited


def visited_list(impl: object, n: int) -> int:
    """The stage-1 workload crawled by ``visited_list_crawl`` (``impl`` is not used)."""
    pages = site(n)
    visited_list_crawl(next(iter(pages)), pages.__getitem__)
    return n


BASELINES = {"visited list (the naive stage-1 design)": visited_list}
