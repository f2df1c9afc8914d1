"""The documentation site in a real browser: `mkdocs build --strict`, served on localhost and
opened page by page in headless Chromium (driven through the Chrome DevTools protocol).

A page fails when it does not load (HTTP error, a failed request), logs a console error or
an uncaught exception, links to a page or anchor of the site that does not exist, shows an
image that does not render (naturalWidth 0), or asks for anything from another host.

Needs the optional extra ``docs`` (mkdocs, websocket-client) and Chromium (Debian's
``chromium``, installed by .ci/run); skips with the reason otherwise.
"""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRA = "the optional extra `docs` is not installed (pip install -e '.[docs]')"

pytest.importorskip("mkdocs", reason=EXTRA)
pytest.importorskip("mkdocstrings", reason=EXTRA)
websocket = pytest.importorskip("websocket", reason=EXTRA)

pytestmark = pytest.mark.docs

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--mute-audio",
                  # nothing but this machine: any other host name fails to resolve
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                  "--remote-debugging-port=0", "about:blank"]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site (strict: a warning fails the build) into a fresh directory."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    return out


def test_site_has_every_page(site):
    pages = {p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")}
    for page in ("quickstart", "answer", "notebooks/course_note", "notebooks/own_reviewer",
                 "commands", "commands/compare", "complete-works", "reviewers-who-err",
                 "learner", "metrics", "architecture", "measured-numbers", "api/learn",
                 "api/reward", "api/theory", "api/typewriter"):
        assert page in pages, page
    for page in ("api/learn", "api/theory"):  # the reference is generated from docstrings
        html = (site / page / "index.html").read_text()
        assert 'class="doc doc-heading"' in html
    answer = (site / "answer" / "index.html").read_text()
    assert "fewer monkeys or less time" in answer and "results/frontier.png" in answer


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="monkeysim-chromium-")
        self.proc = subprocess.Popen([binary, f"--user-data-dir={self.profile}",
                                      *CHROMIUM_FLAGS],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        port = None
        for line in self.proc.stderr:  # "DevTools listening on ws://127.0.0.1:PORT/..."
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = m.group(1)
                break
        if port is None:
            self.close()
            raise RuntimeError("Chromium did not start its DevTools endpoint")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # drain
        from urllib.request import urlopen

        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120,
                                              suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str) -> dict:
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"evaluate failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str) -> list[dict]:
        """Load ``url`` and wait for its load event and its images; return its events."""
        self.events.clear()
        res = self.call("Page.navigate", url=url)
        if res.get("errorText"):
            return [{"method": "Page.navigate", "params": res}]
        self.wait_for("Page.loadEventFired")
        self.evaluate("Promise.all([...document.images].map(i => i.complete ? 0 : "
                      "new Promise(r => { i.onload = i.onerror = r; })))")
        self.call("Runtime.evaluate", expression="0")  # flush pending events
        return list(self.events)

    def close(self):
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run "
                    "installs it where apt-get is available)")
    b = Browser(binary)
    yield b
    b.close()


PAGE_FACTS = """(() => ({
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  images: [...document.images].map(i => ({src: i.currentSrc || i.src,
                                          ok: i.complete && i.naturalWidth > 0})),
  title: document.title,
}))()"""


def _problems(url: str, events: list[dict], origin: str) -> list[str]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Page.navigate":
            out.append(f"{url}: does not load: {p.get('errorText')}")
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append(f"{url}: uncaught exception: "
                       f"{d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            out.append(f"{url}: console error: {args}")
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(f"{url}: console error: {p['entry']['text']} "
                       f"({p['entry'].get('url', '')})")
        elif m == "Network.requestWillBeSent":
            req = p["request"]["url"]
            if not (req.startswith(origin) or req.startswith(("data:", "blob:"))):
                out.append(f"{url}: requests another host: {req[:120]}")
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            out.append(f"{url}: HTTP {p['response']['status']} for {p['response']['url']}")
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"{url}: a request failed: {p.get('errorText')}")
    return out


def crawl(site: Path, server: str, browser: Browser) -> tuple[set[str], list[str]]:
    """Open every page reachable from ``server`` (the home page of ``site``); return the
    pages seen and the problems found."""
    todo, seen = deque([server]), {server}
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str, str]] = []  # (page, target page, fragment)
    problems: list[str] = []
    while todo:
        url = todo.popleft()
        events = browser.open(url)
        problems += _problems(url, events, server)
        facts = browser.evaluate(PAGE_FACTS)
        if not any(e.get("method") == "Network.responseReceived"
                   and e["params"].get("type") == "Document"
                   and e["params"]["response"]["status"] >= 400 for e in events):
            ids[url] = set(facts["ids"])  # a page that exists: links to it are fine
        problems += [f"{url}: image does not render: {i['src'][:120]}"
                     for i in facts["images"] if not i["ok"]]
        for href in facts["links"]:
            target, fragment = urldefrag(urljoin(url, href))
            if not target.startswith(server):
                continue
            links.append((url, target, fragment))
            path = urlparse(target).path
            is_page = path.endswith("/") or path.endswith(".html")
            if is_page and target not in seen:
                seen.add(target)
                todo.append(target)
            elif not is_page and not (site / path.lstrip("/")).is_file():
                problems.append(f"{url}: broken link to {target}")
    for page, target, fragment in links:
        if target not in ids:
            problems.append(f"{page}: broken link to {target}")
        elif fragment and fragment not in ids[target]:
            problems.append(f"{page}: link to a missing anchor {target}#{fragment}")
    return seen, list(dict.fromkeys(problems))


def test_every_page_in_headless_chromium(site, server, browser):
    """Crawl the site from its home page: every built page must be reached, load cleanly,
    render all its images, and link only to pages and anchors that exist."""
    built = {server + p.relative_to(site).as_posix().removesuffix("index.html")
             for p in site.rglob("index.html")}
    seen, problems = crawl(site, server, browser)
    missing = sorted(built - seen)
    assert not missing, f"pages no link reaches: {missing}"
    assert len(seen) >= 25
    assert not problems, "\n".join(problems)


BROKEN = {
    "index.html": '<a href="sub/">s</a><a href="gone/">g</a><a href="sub/#nowhere">a</a>'
                  '<img src="nope.png"><script>console.error("boom")</script>'
                  '<script src="http://elsewhere.invalid/x.js"></script>',
    "sub/index.html": '<h1 id="here">here</h1><script>throw new Error("uncaught")</script>',
}


def test_the_check_catches_a_broken_site(tmp_path, browser):
    """The crawl reports each kind of failure on a small site made broken on purpose."""
    for name, body in BROKEN.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"<html><body>{body}</body></html>")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        _, problems = crawl(tmp_path, server, browser)
    finally:
        httpd.shutdown()
        httpd.server_close()
    text = "\n".join(problems)
    for expected in ("console error: boom", "image does not render", "HTTP 404",
                     "requests another host: http://elsewhere.invalid", "uncaught exception",
                     f"broken link to {server}gone/", "missing anchor", "HTTP 404 for "
                     f"{server}gone/"):
        assert expected in text, (expected, text)
