"""The web_crawler kata, round 1: one site, breadth first.

Spec: stages/web_crawler/stage1.md. Write the body below, then run:

    pytest --stage 1 katas/web_crawler
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["crawl"]


def crawl(start_url: str, fetch: Callable[[str], Iterable[str]]) -> list[str]:
    """Every page of the start URL's host reachable from it, in breadth-first order.

    ``fetch(url)`` returns the links of the page at ``url`` (an iterable of
    str, in page order); it is called at most once per URL, with the URL's
    identity (its ``#fragment`` removed). A link that is not an http(s) URL
    with a host, or whose host is not the start URL's, is not followed. A
    ``fetch`` that raises makes a page that is visited and has no links.

    Raises TypeError for a start_url that is not a str or a fetch that is not
    callable, then ValueError for a start_url that is not an http(s) URL with
    a host, before fetching anything.
    """
    raise NotImplementedError("TODO(stage 1): crawl")
