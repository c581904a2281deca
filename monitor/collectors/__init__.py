"""Collectors: fetch sources politely, parse feeds and pages, store items with evidence."""
