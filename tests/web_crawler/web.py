"""The in-memory web the web_crawler tests crawl, and the checks every crawl gets.

``Web(pages)`` maps a URL to what its ``fetch`` does: a list of links, or an
exception (a class or an instance) that ``fetch`` raises. A URL the web does
not hold raises ``LookupError`` (a 404). ``web.fetch`` records everything a
test asserts afterwards: calls per URL, the most fetches in flight at once (in
total and per host), and any rule broken inside ``fetch`` itself
(``problems``), since an exception raised there would be swallowed by the
crawler as a failed page.

Timing is shaken on purpose: ``jitter`` adds a random sleep to every fetch,
``delays`` a fixed one to some pages, so a race shows.
"""

from __future__ import annotations

import builtins
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

from dojo.testing import Example, ExampleTable, check_call, example_tables

GATE_TIMEOUT = 4.0  # seconds a gated fetch waits for the others before giving up


class Gate:
    """Fetches of some pages wait here until ``parties`` of them are in flight at once.

    A cyclic barrier: every ``parties`` arrivals pass together. When the
    parties do not all arrive within ``GATE_TIMEOUT``, the gate breaks for
    good (every later arrival passes at once, so a serial crawler fails in
    seconds rather than hanging) and the web records the problem.
    """

    def __init__(self, urls: Iterable[str], parties: int, rule: str) -> None:
        self.urls = frozenset(urls)
        self.parties = parties
        self.rule = rule
        self.barrier = threading.Barrier(parties, timeout=GATE_TIMEOUT)

    def wait(self, web: Web, url: str) -> None:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            with web.lock:
                in_flight = web.in_flight
            web.problem(
                f"fetch({url!r}) waited {GATE_TIMEOUT:g} s for {self.parties} fetches in flight "
                f"at once, but only {in_flight} were ({self.rule})"
            )


class Hold:
    """A slow fetch that lasts until enough of its depth's other URLs have started.

    The fetch of ``url`` waits until ``needed`` fetches of ``others`` have
    started (or ``GATE_TIMEOUT`` has passed, and the web records the problem).
    A crawler that keeps its free workers busy while the slow fetch runs
    starts them; one that waits for a whole batch to finish before starting
    the next never does.
    """

    def __init__(self, url: str, others: Iterable[str], needed: int, rule: str) -> None:
        self.url = url
        self.others = frozenset(others)
        self.needed = needed
        self.rule = rule
        self.started = 0
        self.changed = threading.Condition()

    def start(self, web: Web, url: str) -> None:
        if url in self.others:
            with self.changed:
                self.started += 1
                self.changed.notify_all()
        elif url == self.url:
            with self.changed:
                done = self.changed.wait_for(lambda: self.started >= self.needed, GATE_TIMEOUT)
                started = self.started
            if not done:
                web.problem(
                    f"fetch({url!r}) ran {GATE_TIMEOUT:g} s while only {started} of the other "
                    f"URLs of its depth were started, though {self.needed} could have been "
                    f"({self.rule})"
                )


@dataclass
class Web:
    """An in-memory web whose ``fetch`` records every call."""

    pages: Mapping[str, Any]
    delays: Mapping[str, float] = field(default_factory=dict)
    # URL -> exceptions raised by its first attempts, in order; then its links.
    first: Mapping[str, list[Any]] = field(default_factory=dict)
    jitter: float = 0.0  # each fetch sleeps up to this many seconds, at random
    seed: int = 0
    gate: Gate | None = None
    hold: Hold | None = None
    robots: Robots | None = None  # when set, fetch checks that robots answered first
    generator: bool = False  # fetch returns a generator instead of a list

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.rng = random.Random(self.seed)
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self.host_in_flight: Counter[str] = Counter()
        self.host_peak: Counter[str] = Counter()
        self.problems: list[str] = []
        self.threads: set[int] = set()

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def fetch(self, url: str) -> Any:
        host = urlsplit(url).hostname or ""
        with self.lock:
            self.calls[url] += 1
            self.order.append(url)
            attempt = self.calls[url]
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.host_in_flight[host] += 1
            self.host_peak[host] = max(self.host_peak[host], self.host_in_flight[host])
            pause = self.delays.get(url, 0.0) + self.rng.uniform(0, self.jitter)
            self.threads.add(threading.get_ident())
        try:
            if not isinstance(url, str) or urldefrag(url).url != url:
                self.problem(f"fetch was called with {url!r}, not a URL's identity")
            if self.robots is not None and host not in self.robots.answered:
                self.problem(f"fetch({url!r}) started before robots({host!r}) had returned")
            if pause:
                time.sleep(pause)
            if self.gate is not None and url in self.gate.urls:
                self.gate.wait(self, url)
            if self.hold is not None:
                self.hold.start(self, url)
            return self._answer(url, attempt)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.host_in_flight[host] -= 1

    def _answer(self, url: str, attempt: int) -> Any:
        failures = self.first.get(url, [])
        if attempt <= len(failures):
            raise failures[attempt - 1]
        if url not in self.pages:
            raise LookupError(f"404: no page {url}")
        links = self.pages[url]
        if isinstance(links, BaseException) or (
            isinstance(links, type) and issubclass(links, BaseException)
        ):
            raise links
        return (link for link in links) if self.generator else list(links)

    def most_calls(self) -> tuple[str, int]:
        """The URL fetched most often and how often (``("", 0)`` when none was)."""
        return max(self.calls.items(), key=lambda item: item[1], default=("", 0))


class Robots:
    """``robots(host)`` from a dict of host -> disallowed prefixes, recording every call."""

    def __init__(
        self, rules: Mapping[str, list[str]] | None = None, *, jitter: float = 0.0, seed: int = 0
    ) -> None:
        self.rules = dict(rules or {})
        self.jitter = jitter
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.asked: Counter[str] = Counter()
        self.answered: set[str] = set()

    def __call__(self, host: str) -> list[str]:
        with self.lock:
            self.asked[host] += 1
            pause = self.rng.uniform(0, self.jitter)
        if pause:
            time.sleep(pause)
        with self.lock:
            self.answered.add(host)
        return list(self.rules.get(host, []))


class Sleeps:
    """A ``sleep`` that records the seconds asked for and never waits."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.seconds.append(seconds)


# --- calls, rendered for messages, and checked for threads left behind ---------------------


def ident(value: object) -> str:
    """A test id for a parameter: its repr, with every run of characters other than
    letters, digits, ``.``, ``-`` and ``_`` made one ``_`` (a ``::`` or a space in an id
    breaks selecting the test by its node id)."""
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", repr(value)).strip("_") or "_"


def show(value: object) -> str:
    if isinstance(value, Web):
        return "fetch"
    if isinstance(value, Robots):
        return "robots"
    if isinstance(value, Sleeps):
        return "sleep"
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", "<function>")
    return repr(value)


@dataclass
class Call:
    """One call of the code under test, shown as the learner would write it."""

    function: str  # "crawl" or "crawl_report"
    args: tuple[Any, ...]
    options: dict[str, Any]

    def __str__(self) -> str:
        shown = [show(a) for a in self.args]
        shown += [f"{name}={show(value)}" for name, value in self.options.items()]
        return f"{self.function}({', '.join(shown)})"

    def run(self, impl: Any) -> Any:
        """Make the call; fail if a thread it started is still alive when it returns."""
        function = getattr(impl, self.function)
        args = [a.fetch if isinstance(a, Web) else a for a in self.args]
        before = set(threading.enumerate())
        result = function(*args, **self.options)
        left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
        assert not left, (
            f"{self} returned while threads it started were still alive: {left} (crawl returns "
            "only when every fetch it started has finished; no thread it started is alive "
            "afterwards)"
        )
        return result


def crawl(impl: Any, start: object, web: Web | object, **options: Any) -> tuple[Any, Call]:
    """``impl.crawl(start, web.fetch, **options)``, checked for leftover threads."""
    call = Call("crawl", (start, web), options)
    return call.run(impl), call


def crawl_report(impl: Any, start: object, web: Web | object, **options: Any) -> tuple[Any, Call]:
    """``impl.crawl_report(start, web.fetch, **options)``, checked for leftover threads."""
    call = Call("crawl_report", (start, web), options)
    return call.run(impl), call


def expect(actual: object, expected: object, call: Call | str, rule: str) -> None:
    """Fail with the call, what came back, what was expected and the rule."""
    assert actual == expected and type(actual) is type(expected), (
        f"{call} returned {actual!r}; expected {expected!r} ({rule})"
    )


def refuses(
    impl: Any, error: type[BaseException], call: Call, rule: str, argument: str | None = None
) -> None:
    """The call must raise ``error`` whose message names the wrong ``argument`` (by default
    the call's only keyword argument), and fetch nothing."""
    if argument is None and len(call.options) == 1:
        argument = next(iter(call.options))
    try:
        result = call.run(impl)
    except error as exc:
        assert argument is None or argument in str(exc), (
            f"{call} raised {error.__name__}({str(exc)!r}); its message must name the "
            f"argument that was wrong, {argument} ({rule})"
        )
    else:
        raise AssertionError(f"{call} returned {result!r}; expected {error.__name__} ({rule})")
    for arg in call.args:
        if isinstance(arg, Web):
            assert not arg.order, (
                f"{call} fetched {arg.order} before raising; arguments are checked before "
                "anything is fetched"
            )


def first_difference(actual: list[Any], expected: list[Any]) -> int:
    """The first index where two lists differ (the shorter length when one is a prefix)."""
    pairs = zip(actual, expected, strict=False)
    return next((i for i, (a, e) in enumerate(pairs) if a != e), min(len(actual), len(expected)))


def accepts(impl: Any, function: str, **options: Any) -> None:
    """A one-page crawl with these (valid) options works: the code takes the arguments at
    all, so that a refusal of a bad value in the same test is the code's own check."""
    web = Web({"http://a.com/": []})
    call = Call(function, ("http://a.com/", web), options)
    result = call.run(impl)
    pages = result if function == "crawl" else result.pages
    expect(pages, ["http://a.com/"], call, "a one-page crawl with valid options")


def no_problems(web: Web, call: Call) -> None:
    """No rule broken inside fetch (those exceptions went to the crawler, not the test)."""
    assert not web.problems, f"{call}: " + "; ".join(web.problems[:3])


def fetched_once(web: Web, call: Call) -> None:
    url, times = web.most_calls()
    assert times <= 1, (
        f"{call} fetched {url!r} {times} times (fetch is called at most once per URL, "
        "even with many workers)"
    )


@contextmanager
def switching_often() -> Iterator[None]:
    """Switch threads every 10 µs, so that races show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


# --- webs ------------------------------------------------------------------------------


def random_web(
    rng: random.Random, pages: int, links: int, hosts: tuple[str, ...] = ("a.com",)
) -> dict[str, list[str]]:
    """``pages`` pages per host, each with up to ``links`` links to random pages of any host,
    some with a fragment, some missing from the web (404), some not valid at all."""
    urls = [f"http://{host}/p{i}" for host in hosts for i in range(pages)]
    web = {}
    for url in urls:
        chosen = []
        for _ in range(rng.randrange(links + 1)):
            kind = rng.random()
            if kind < 0.75:
                chosen.append(rng.choice(urls))
            elif kind < 0.85:
                chosen.append(rng.choice(urls) + "#frag")
            elif kind < 0.93:
                chosen.append(f"http://{rng.choice(hosts)}/missing{rng.randrange(3)}")
            else:
                chosen.append(rng.choice(["/relative", "mailto:x@a.com", "http://[::1", 7]))
        web[url] = chosen
    return web


def bfs(
    pages: Mapping[str, Any],
    start: str,
    *,
    hosts: Iterable[str] = (),
    max_depth: int | None = None,
    max_pages: int | None = None,
    rules: Mapping[str, list[str]] | None = None,
    failed: Callable[[str], bool] = lambda url: False,
) -> list[str]:
    """The spec's breadth-first order, as plainly as possible (the model of the tests).

    ``pages[url]`` is a list of links, or anything else for a page that fails;
    a URL missing from ``pages`` fails too, as does one for which ``failed(url)``.
    """
    start = urldefrag(start).url
    followed = {urlsplit(start).hostname} | {h.lower() for h in hosts}

    def host_of(link: object) -> str | None:
        if not isinstance(link, str):
            return None
        try:
            parts = urlsplit(link)
        except ValueError:
            return None
        ok = parts.scheme in ("http", "https") and parts.hostname
        return parts.hostname if ok else None

    def allowed(url: str) -> bool:
        prefixes = (rules or {}).get(urlsplit(url).hostname or "", [])
        return not any(urlsplit(url).path.startswith(p) for p in prefixes)

    if not allowed(start):
        return []
    result: list[str] = []
    seen = {start}
    queue = [(start, 0)]
    while queue:
        url, depth = queue.pop(0)
        if max_pages is not None and len(result) == max_pages:
            break
        result.append(url)
        links = pages.get(url)
        if failed(url) or not isinstance(links, list) or depth == max_depth:
            continue
        for link in links:
            if host_of(link) in followed:
                identity = urldefrag(link).url
                if identity not in seen:
                    seen.add(identity)
                    if allowed(identity):
                        queue.append((identity, depth + 1))
    return result


# --- the specs' example tables ------------------------------------------------------------
# A spec's example section holds a web table (columns page, links, and optionally
# delay and "first attempts raise"), optionally a robots table (host, disallows),
# and call tables (call, result). Each call table is replayed against the web and
# robots tables above it; a row whose call crawls gets a fresh web, robots and sleep.

EXCEPTIONS = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def _value(row: Example, column: str) -> Any:
    return eval(row.code(column), dict(EXCEPTIONS))


@dataclass
class ExampleWeb:
    """What a spec's web and robots tables describe; ``fresh()`` builds new recorders."""

    pages: dict[str, Any] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    first: dict[str, list[Any]] = field(default_factory=dict)
    rules: dict[str, list[str]] | None = None

    def read(self, table: ExampleTable) -> None:
        if "page" in table.columns:
            self.pages, self.delays, self.first = {}, {}, {}
            for row in table.rows:
                page = row.code("page")
                self.pages[page] = _value(row, "links")
                if "delay" in table.columns:
                    self.delays[page] = float(_value(row, "delay"))
                if "first attempts raise" in table.columns:
                    self.first[page] = list(_value(row, "first attempts raise"))
        elif "host" in table.columns:
            self.rules = {row.code("host"): list(_value(row, "disallows")) for row in table.rows}

    def namespace(self, impl: Any, namespace: dict[str, Any]) -> None:
        robots = Robots(self.rules, jitter=0.001) if self.rules is not None else None
        web = Web(self.pages, delays=self.delays, first=self.first, jitter=0.001, robots=robots)
        sleeps = Sleeps()
        namespace.update(
            crawl=lambda *args, **options: Call("crawl", args, options).run(impl),
            crawl_report=lambda *args, **options: Call("crawl_report", args, options).run(impl),
            web=web,
            fetch=web.fetch,
            fetched=web.order,
            robots=robots,
            asked=robots.asked if robots else None,
            sleep=sleeps,
            slept=sleeps.seconds,
        )


def example_calls(family: str, stage: int) -> list[Any]:
    """One ``pytest.param((webs, call table))`` per call table of the stage's spec.

    A list, not a generator: a parametrize argument is read once per collection,
    and a second collection in the same process (mutmut's) would find it empty.
    No stage mark: the test module that replays them has its own.
    """
    params = []
    described = ExampleWeb()
    for table in example_tables(family, stage):
        if "call" not in table.columns:
            described.read(table)
            continue
        webs = ExampleWeb(
            dict(described.pages), dict(described.delays), dict(described.first), described.rules
        )
        params.append(pytest.param((webs, table), id=table.id))
    return params


def replay_calls(impl: Any, webs: ExampleWeb, table: ExampleTable) -> None:
    """Replay a call table row by row; a row that crawls starts on a fresh web."""
    namespace: dict[str, Any] = {}
    webs.namespace(impl, namespace)
    for row in table.rows:
        call = row.code("call")
        if "crawl" in call:
            webs.namespace(impl, namespace)
            if "robots=robots" not in call:  # robots is not this crawl's: fetch need not wait
                namespace["web"].robots = None
        check_call(row, call, eval(row.code("result"), dict(EXCEPTIONS)), namespace)
        web = namespace["web"]
        assert not web.problems, f"{row.where}: {call}: " + "; ".join(web.problems[:3])
