"""The reports in a real browser: headless Chromium opens the pages from disk, sorts, filters and
pages the story table by clicking and typing as a person would, and finds no console error.
Screenshots of the index and a story page are saved to a temporary folder (or to the folder in
TAGGER_SCREENSHOTS).

Chromium is driven over the DevTools protocol with the `websockets` package. Without a Chromium
(Debian: `apt-get install chromium`) the tests are skipped with a message.
"""

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import tagger
from tagger import pipeline, report, store

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (Debian: apt-get install chromium); browser tests skipped",
)
websockets_client = pytest.importorskip("websockets.sync.client")

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
VIEWPORT = (1400, 1000)
TIMEOUT = 30.0


class Browser:
    """A headless Chromium and one page of it, driven over the DevTools protocol."""

    def __init__(self, profile: Path):
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.is_file() and len(port_file.read_text().split()) == 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().split()
        self.socket = websockets_client.connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=VIEWPORT[0],
            height=VIEWPORT[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, *, session: bool = False, **params) -> dict:
        message = {"id": next(self.ids), "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv(timeout=TIMEOUT))
            if answer.get("id") == message["id"]:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def open(self, path: Path | str) -> None:
        """Load the file at `path` (or an address) and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", session=True, url="about:blank")
        self.wait_for_event("Page.loadEventFired")
        self.events.clear()
        self.call(
            "Page.navigate", session=True, url=path if isinstance(path, str) else path.as_uri()
        )
        self.wait_for_event("Page.loadEventFired")

    def wait_for_event(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            seen = len(self.events)
            try:
                self.events.append(json.loads(self.socket.recv(timeout=1)))
            except TimeoutError:
                continue
        raise AssertionError(f"no {method} within {TIMEOUT} s")

    def js(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"never true: {expression}")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads since the page was opened."""
        self.js("0")  # collect what is pending
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(json.dumps(params["args"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """The main job on the fixture stories with the bundled prices (no network)."""
    folder = tmp_path_factory.mktemp("browser")
    con = store.connect(folder / "t.duckdb")
    pipeline.run(con, [FIXTURES / "news.jsonl"], folder / "reports", online=False)
    return folder / "reports"


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """Reports of 120 short dated stories (no study): more than a page of the index."""
    folder = tmp_path_factory.mktemp("browser_many")
    companies = ["Apple Inc. (NASDAQ: AAPL)", "Nvidia Corp. (NASDAQ: NVDA)", "Tilray (TLRY)"]
    news = folder / "many.jsonl"
    news.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"story-{i:03d}",
                    "body": f"{companies[i % 3]} said sales rose in quarter {i}.",
                    "published_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                }
            )
            + "\n"
            for i in range(120)
        ),
        encoding="utf-8",
    )
    con = store.connect(folder / "t.duckdb")
    batch = tagger.read_articles([news])
    tagger.store_articles(con, batch.articles)
    tagger.store_tags(con, *tagger.tag_articles(batch.articles))
    return report.write_reports(con, folder / "reports").folder


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    wanted = os.environ.get("TAGGER_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("screenshots")


def index_data(out: Path) -> list[dict]:
    entries = []
    for script in sorted((out / "data").glob("stories-*.js")):
        text = script.read_text(encoding="utf-8")
        entries += json.loads(text.removeprefix("taggerStories(").removesuffix(");\n"))
    return entries


ROWS = "[...document.querySelectorAll('#stories tbody tr')]"
SHOWN = f"{ROWS}.map(r => r.querySelector('a.headline').getAttribute('href'))"


def shown(browser: Browser) -> list[str]:
    """The story folders of the rows the table shows, in order."""
    return [href.removesuffix("/index.html") for href in browser.js(SHOWN)]


def click_header(browser: Browser, key: str) -> None:
    browser.js(f"document.querySelector('#stories th[data-key=\"{key}\"] button').click()")


def type_into(browser: Browser, name: str, value: str) -> None:
    browser.js(
        f"(() => {{ const f = document.querySelector('#filters [name=\"{name}\"]');"
        f" f.value = {json.dumps(value)};"
        " f.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def test_index_shows_the_stories_first_and_sorts_them(browser, reports, screenshots):
    browser.open(reports / "index.html")
    browser.wait_until("document.body.dataset.ready === 'true'")
    entries = index_data(reports)
    folders = [e["f"] for e in entries]
    assert shown(browser) == folders  # newest first, as written
    # the first screen shows stories: the table starts in the upper half, settings folded
    assert browser.js("document.querySelector('#stories tbody tr').getBoundingClientRect().top") < (
        VIEWPORT[1] / 2
    )
    assert browser.js("document.querySelector('details.settings').open") is False
    assert browser.js("document.title") == "News stories and market reactions · market-tagger"

    click_header(browser, "headline")
    by_headline = [e["f"] for e in sorted(entries, key=lambda e: e["h"].lower())]
    assert shown(browser) == by_headline
    click_header(browser, "headline")
    assert shown(browser) == by_headline[::-1]

    windows = json.loads(browser.js("document.getElementById('stories').dataset.windows"))
    j = windows.index("-1:1")
    click_header(browser, f"car{j}")  # largest CAR first, unmeasured stories last
    cars = [(e["r"][0][1 + 2 * j] if e["r"] else None, e["f"]) for e in entries]
    expected = [f for _, f in sorted((c for c in cars if c[0] is not None), key=lambda c: -c[0])]
    assert shown(browser) == expected + [f for c, f in cars if c is None]
    assert (
        browser.js(
            f"document.querySelector('#stories th[data-key=\"car{j}\"]').getAttribute('aria-sort')"
        )
        == "descending"
    )
    click_header(browser, "time")  # back to newest first
    assert shown(browser) == folders
    click_header(browser, "time")  # oldest first, undated stories still last
    dated = [e["f"] for e in entries if e["t"]]
    assert shown(browser) == dated[::-1] + [e["f"] for e in entries if not e["t"]]
    click_header(browser, "time")
    assert browser.errors() == []
    browser.screenshot(screenshots / "report_index.png")


def test_index_filters_by_ticker_text_date_and_relevance(browser, reports):
    browser.open(reports / "index.html")
    browser.wait_until("document.body.dataset.ready === 'true'")
    entries = index_data(reports)

    def tickers(entry):
        return {c[1] for c in entry["c"]} | {c[5] for c in entry["c"]}

    type_into(browser, "ticker", "hood")
    assert shown(browser) == [e["f"] for e in entries if "HOOD" in tickers(e)] != []
    assert "ticker=hood" in browser.js("location.hash")
    type_into(browser, "ticker", "")

    type_into(browser, "q", "buffett")
    found = [
        e["f"] for e in entries if "buffett" in (e["h"] + " ".join(str(c) for c in e["c"])).lower()
    ]
    assert shown(browser) == found and found
    type_into(browser, "q", "")

    type_into(browser, "from", "2022-01-01")
    type_into(browser, "to", "2022-12-31")
    in_2022 = [e["f"] for e in entries if e["t"][:4] == "2022"]
    assert shown(browser) == in_2022 and 0 < len(in_2022) < len(entries)
    assert browser.js("document.getElementById('status').textContent").startswith(
        f"Showing 1\u2013{len(in_2022)} of {len(in_2022)}"
    )
    browser.js("document.querySelector('#filters button[type=reset]').click()")
    browser.wait_until(f"{ROWS}.length === {len(entries)}")

    type_into(browser, "relevance", "90")
    relevant = [e["f"] for e in entries if any(c[3] >= 90 for c in e["c"])]
    assert shown(browser) == relevant and 0 < len(relevant) < len(entries)
    type_into(browser, "relevance", "")

    browser.js("document.querySelector('#filters [name=measured]').click()")
    assert shown(browser) == [e["f"] for e in entries if e["r"]]
    browser.js("document.querySelector('#filters button[type=reset]').click()")
    browser.wait_until(f"{ROWS}.length === {len(entries)}")

    # a company chip filters by its ticker
    first_chip = browser.js("document.querySelector('#stories button.chip b').textContent")
    browser.js("document.querySelector('#stories button.chip').click()")
    assert browser.js("document.querySelector('#filters [name=ticker]').value") == first_chip
    assert shown(browser) == [e["f"] for e in entries if first_chip in tickers(e)]
    # the filters live in the address: opening it again restores them
    address = browser.js("location.href")
    assert "#ticker=" in address
    browser.open(address)
    browser.wait_until("document.body.dataset.ready === 'true'")
    assert shown(browser) == [e["f"] for e in entries if first_chip in tickers(e)]
    assert browser.errors() == []


def test_index_pages_through_many_stories(browser, many):
    browser.open(many / "index.html")
    browser.wait_until("document.body.dataset.ready === 'true'")
    entries = index_data(many)
    assert len(entries) == 120
    assert shown(browser) == [e["f"] for e in entries[:50]]
    next_page = "[...document.querySelectorAll('#pager button')].find(b => b.textContent"
    browser.js(next_page + ".startsWith('next')).click()")
    assert shown(browser) == [e["f"] for e in entries[50:100]]
    assert "page 2 of 3" in browser.js("document.getElementById('pager').textContent")
    assert browser.js("document.getElementById('status').textContent").startswith(
        "Showing 51\u2013100 of 120 stories"
    )
    type_into(browser, "ticker", "NVDA")  # a new filter starts again on the first page
    assert shown(browser) == [e["f"] for e in entries if e["c"][0][1] == "NVDA"]
    assert browser.errors() == []


def test_story_page_shows_its_chart_table_and_highlighted_text(browser, reports, screenshots):
    entries = index_data(reports)
    story = max(entries, key=lambda e: (len(e["r"]), len(e["c"])))
    assert story["r"]
    browser.open(reports / story["f"] / "index.html")
    assert browser.js("document.querySelectorAll('svg.chart polyline').length") == len(story["r"])
    assert browser.js("document.querySelectorAll('table.reaction tbody tr').length") == len(
        story["c"]
    )
    assert browser.js("document.querySelectorAll('section.text mark[title]').length") > 0
    width = browser.js("document.querySelector('figure.car svg').getBoundingClientRect().width")
    assert width >= 600  # readable, not a thumbnail
    assert browser.js("document.querySelector('.crumbs a').textContent").startswith(
        "\u2190 All stories"
    )
    assert browser.errors() == []
    browser.screenshot(screenshots / "report_story.png")
    browser.open(reports / "study.html")
    assert browser.js("document.querySelectorAll('svg.chart').length") >= 1
    assert browser.errors() == []
