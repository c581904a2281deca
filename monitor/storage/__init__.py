"""Persistence: SQLAlchemy Core tables, engines, migrations and batch repositories."""
