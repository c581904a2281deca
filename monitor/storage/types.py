"""Column types shared by all tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A naive datetime was about to be stored."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC, returned as an aware UTC datetime, naive values refused.

    PostgreSQL stores TIMESTAMPTZ; SQLite stores the UTC wall time as sortable ISO text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise NaiveDatetimeError(
                f"refusing to store naive datetime {value.isoformat()}: attach a timezone "
                "(every instant in this system is aware; use clock.now() or datetime(..., tzinfo=UTC))"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: JSONB on PostgreSQL, JSON1 text on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def dumps(value: Any) -> str:
    """JSON text as stored (UTF-8, Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
