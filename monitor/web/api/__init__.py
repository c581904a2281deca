"""The JSON API under /api/: token auth (Authorization: Bearer …), OpenAPI at /api/openapi.json."""
