"""A local aiohttp server that plays what real news and government sites do to a collector.

Routes (state in `Playground` attributes, changed by tests between polls):
  /feed/{name}.xml   a feed whose responses follow `scripts[name]` (a list of steps, the last one repeats)
  /slow              never answers (the client's read timeout fires); sets `slow_asked`
  /big               streams a body larger than any sane limit
  /loop/{n}          redirects forever
  /list.html         an HTML list page; /articles/{n}.html its article pages (answered with
                     `article_refusal`'s status and headers instead while it is set)
  /news/{n}.html     numbered list pages (`pages[n]`) for pagination ("下一页" links)
  /held/{n}          answers only when `release` is set; `in_flight` / `max_in_flight` count requests
  /trickle           sends a byte every 50 ms for 2 s (each read is quick, the whole is slow)
  /declared-big      a 2 MiB body with its Content-Length
  /go/{name}         redirects (302) to `redirects[name]`, which may be on another host
  /robots.txt        `robots` (a Step: status, body, headers) or 404 while it is None; counted in
                     `robots_hits`, not in `hits` or `requests` (the requests a poll makes for content)
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from .conftest import START


@dataclass
class Step:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag/Last-Modified and honour If-None-Match with 304


def rss(items: list[dict[str, str]], *, encoding: str = "utf-8", declared: str | None = None) -> bytes:
    entries = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link>"
        f"<guid>{i.get('guid', i['link'])}</guid>"
        f"<pubDate>{i.get('date', format_datetime(START))}</pubDate>"
        f"<description>{i.get('text', '')}</description></item>"
        for i in items
    )
    head = f'<?xml version="1.0" encoding="{declared or encoding}"?>\n'
    doc = f'{head}<rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'
    return doc.encode(encoding)


class Playground:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Step]] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.never = asyncio.Event()
        self.slow_asked = asyncio.Event()
        self.list_page = b""
        self.articles: dict[str, bytes] = {}
        self.article_refusal: Step | None = None
        self.pages: dict[str, bytes] = {}
        self.release = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self.server: TestServer | None = None
        self.robots: Step | None = None
        self.robots_hits = 0
        self.redirects: dict[str, str] = {}

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed/{name}.xml", self.feed)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/big", self.big)
        app.router.add_get("/loop/{n}", self.loop)
        app.router.add_get("/list.html", self.listing)
        app.router.add_get("/articles/{n}.html", self.article)
        app.router.add_get("/news/{n}.html", self.numbered_page)
        app.router.add_get("/held/{n}", self.held)
        app.router.add_get("/trickle", self.trickle)
        app.router.add_get("/declared-big", self.declared_big)
        app.router.add_get("/go/{name}", self.go)
        app.router.add_get("/robots.txt", self.robots_txt)
        return app

    def _hit(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        self.requests.append((request.path, dict(request.headers)))

    async def feed(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        script = self.scripts[request.match_info["name"]]
        step = script.pop(0) if len(script) > 1 else script[0]
        headers = dict(step.headers)
        if step.status == 200 and step.validators:
            etag = '"' + hashlib.sha256(step.body).hexdigest()[:16] + '"'
            headers.update({"ETag": etag, "Last-Modified": format_datetime(START, usegmt=True)})
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        if step.status == 200:
            headers["Content-Type"] = step.content_type
            return web.Response(status=200, body=step.body, headers=headers)
        return web.Response(status=step.status, headers=headers)

    async def slow(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        self.slow_asked.set()
        await self.never.wait()  # released at teardown
        return web.Response(text="too late")

    async def big(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * 65536 + b" -->"
        for _ in range(64):  # 4 MiB, far above the limit the tests set
            await response.write(chunk)
        await response.write_eof()
        return response

    async def loop(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{(n + 1) % 2}")

    async def go(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        raise web.HTTPFound(self.redirects[request.match_info["name"]])

    async def listing(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        return web.Response(body=self.list_page, headers={"Content-Type": "text/html; charset=gbk"})

    async def article(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        if self.article_refusal is not None:
            return web.Response(status=self.article_refusal.status, headers=self.article_refusal.headers)
        body = self.articles.get(request.match_info["n"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8"})

    async def numbered_page(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        body = self.pages.get(request.match_info["n"])
        if body is None:
            return web.Response(status=500, text="list page broke")
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8"})

    async def held(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return web.Response(body=rss([]), content_type="application/rss+xml")

    async def trickle(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for _ in range(40):  # a slow site, played in real time: the client's total timeout is what ends it
            await response.write(b" ")
            await asyncio.sleep(0.05)
        await response.write_eof()
        return response

    async def declared_big(self, request: web.Request) -> web.StreamResponse:
        self._hit(request)
        return web.Response(body=b"<!-- " + b"x" * (2 * 1024 * 1024) + b" -->", content_type="application/rss+xml")

    async def robots_txt(self, request: web.Request) -> web.StreamResponse:
        self.robots_hits += 1
        if self.robots is None:
            raise web.HTTPNotFound()
        step = self.robots
        if step.status != 200:
            return web.Response(status=step.status, headers=step.headers)
        return web.Response(body=step.body, headers={"Content-Type": "text/plain; charset=utf-8", **step.headers})


def robots(text: str, status: int = 200) -> Step:
    return Step(status=status, body=text.encode("utf-8"), validators=False)


async def start(play: Playground) -> Any:
    server = TestServer(play.app(), host="127.0.0.1")
    await server.start_server()
    play.server = server
    return server
