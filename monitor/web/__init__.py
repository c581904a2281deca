"""The web interface (aiohttp + Jinja2): duty queue, incidents, sources, reports, JSON API."""
