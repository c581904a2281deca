"""A local HTTP server that plays the demo corpus as RSS and Atom feeds (with ETag / 304)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from aiohttp import web

from monitor.clock import Clock
from monitor.demo.corpus import DemoCorpus, render_feed

_CONTENT_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def create_feed_app(corpus: DemoCorpus, clock: Clock, start: datetime) -> web.Application:
    """Serve /feeds/<id>.xml; only items published by the clock's `now` are visible."""

    async def feed(request: web.Request) -> web.Response:
        feed_id = request.match_info["feed_id"]
        demo_feed = corpus.feeds.get(feed_id)
        if demo_feed is None:
            raise web.HTTPNotFound(text=f"no demo feed {feed_id!r}")
        base = f"{request.scheme}://{request.host}"
        body = render_feed(demo_feed, corpus.items_of(feed_id), start, clock.now(), base)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        content_type = f"{_CONTENT_TYPES[demo_feed.format]}; charset={demo_feed.encoding}"
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})

    async def listing(request: web.Request) -> web.Response:
        lines = [f"{f.title}\t{f.path}" for f in corpus.feeds.values()]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/feeds/{feed_id}.xml", feed)
    app.router.add_get("/", listing)
    return app
