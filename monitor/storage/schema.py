"""Tables (SQLAlchemy Core). Alembic migrations in `migrations/` create exactly these.

Conventions: surrogate integer keys; every instant is `UTCDateTime`; enums are stored as their
stable string values; JSON documents as `JSONDoc`. Append-only tables (incident_events,
audit_log) are protected by triggers created in the migrations.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from monitor.storage.types import JSONDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite needs INTEGER PRIMARY KEY for rowid aliasing; PostgreSQL gets BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


def pk() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def fk(name: str, target: str, *, nullable: bool = False, ondelete: str | None = None) -> Column[int]:
    return Column(name, Id, ForeignKey(target, ondelete=ondelete), nullable=nullable)


sources = Table(
    "sources",
    metadata,
    pk(),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("url", Text, nullable=False, unique=True),
    Column("media_tier", String(20), nullable=False),
    Column("media_type", String(20)),  # MediaType as set; NULL: inferred from the URL and name
    Column("region_hint", String(100)),
    Column("poll_min_s", Integer, nullable=False),
    Column("poll_max_s", Integer, nullable=False),
    Column("expected_per_day", Float),
    Column("credentials_ref", String(200)),
    Column("options", JSONDoc, nullable=False, server_default=text("'{}'")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("health", String(20), nullable=False, server_default="ok"),
    Column("health_changed_at", UTCDateTime),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_fetch_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_new_item_at", UTCDateTime),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UTCDateTime),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_sources_next_poll", sources.c.enabled, sources.c.next_poll_at)

source_events = Table(
    "source_events",
    metadata,
    pk(),
    fk("source_id", "sources.id", ondelete="CASCADE"),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("from_health", String(20)),
    Column("to_health", String(20)),
    Column("detail", JSONDoc, nullable=False, server_default=text("'{}'")),
)
Index("ix_source_events_source_at", source_events.c.source_id, source_events.c.at)

fetches = Table(
    "fetches",
    metadata,
    pk(),
    fk("source_id", "sources.id", ondelete="CASCADE"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("url", Text, nullable=False),
    Column("http_status", Integer),
    Column("outcome", String(30), nullable=False),  # ok | not_modified | error | timeout | too_large …
    Column("bytes", Integer),
    Column("items_seen", Integer, nullable=False, server_default="0"),
    Column("items_new", Integer, nullable=False, server_default="0"),
    Column("evidence_sha256", String(64)),
    Column("error", Text),
    Column("worker", String(100)),
)
Index("ix_fetches_source_started", fetches.c.source_id, fetches.c.started_at)

evidence = Table(
    "evidence",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("http_status", Integer),
    Column("content_type", String(200)),
    Column("encoding", String(40)),
    Column("headers", JSONDoc, nullable=False, server_default=text("'{}'")),
    Column("size", Integer, nullable=False),
    Column("compression", String(10), nullable=False, server_default="zlib"),
    Column("body", LargeBinary, nullable=False),
)

items = Table(
    "items",
    metadata,
    pk(),
    fk("source_id", "sources.id", nullable=True, ondelete="SET NULL"),
    Column("dedup_key", String(64), nullable=False, unique=True),  # sha256 of canonical URL or GUID
    Column("guid", Text),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),  # original text as published
    Column("text_norm", Text),  # normalised (simplified, half-width) text the classifier sees
    Column("author", String(200)),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("raw_sha256", String(64)),  # evidence.sha256 of the bytes it was parsed from
    Column("title_hash", String(16)),
    Column("minhash", LargeBinary),  # MinHash signature (uint32 LE) for near-duplicate detection
    Column("origin", String(200)),  # outlet a repost names as its source (来源：…)
    Column("media_tier", String(20)),
    Column("media_type", String(20)),  # MediaType of its source (set or inferred) when collected
    Column("region_hint", String(100)),
    fk("duplicate_of", "items.id", nullable=True, ondelete="SET NULL"),
    Column("warnings", JSONDoc, nullable=False, server_default=text("'[]'")),
    Column("relevant", Boolean),
    Column("relevance_score", Float),
    Column("event_type", String(30)),
    Column("event_level", String(4)),
    Column("opinion_level", String(4)),
    Column("department", String(100)),
    Column("region", String(100)),
    Column("classification", JSONDoc),
    Column("classified_at", UTCDateTime),
    Column("model_version", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_items_fetched_at", items.c.fetched_at)
Index("ix_items_published_at", items.c.published_at)
Index("ix_items_title_hash", items.c.title_hash)
Index("ix_items_unclassified", items.c.classified_at, items.c.id)
Index("ix_items_duplicate_of", items.c.duplicate_of)

incidents = Table(
    "incidents",
    metadata,
    pk(),
    Column("external_ref", String(200), unique=True),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("event_type", String(30)),
    Column("event_level", String(4)),
    Column("opinion_level", String(4)),
    Column("requires_response", Boolean, nullable=False, server_default=text("true")),
    Column("owner_unit", String(100)),
    Column("lead_unit", String(100)),
    Column("co_units", JSONDoc, nullable=False, server_default=text("'[]'")),
    Column("region", String(100)),
    Column("multi_region", Boolean, nullable=False, server_default=text("false")),
    Column("vertical_managed", Boolean, nullable=False, server_default=text("false")),
    Column("media_tiers", JSONDoc, nullable=False, server_default=text("'[]'")),
    Column("item_count", Integer, nullable=False, server_default="0"),
    Column("source_count", Integer, nullable=False, server_default="0"),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("occurred_at", UTCDateTime),
    Column("first_published_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("assigned_at", UTCDateTime),  # 交办 to the current owning unit (ASSIGNED event)
    Column("accepted_at", UTCDateTime),  # 认领 by it (ACCEPTED event); NULL until then
    Column("returned_reason", Text),  # the latest 退回's reason (RETURNED event)
    Column("media_type", String(20)),  # MediaType read from an imported ledger row (no items); else NULL
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("playbook_hash", String(64)),
    Column("playbook", JSONDoc),  # the rules + ladder snapshot taken at confirmation
    Column("next_due_at", UTCDateTime),  # nearest open deadline (for the queue's sort)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_incidents_status_due", incidents.c.status, incidents.c.next_due_at)
Index("ix_incidents_detected_at", incidents.c.detected_at)

incident_items = Table(
    "incident_items",
    metadata,
    fk("incident_id", "incidents.id", ondelete="CASCADE"),
    Column("item_id", Id, ForeignKey("items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("attached_at", UTCDateTime, nullable=False),
    Column("reason", JSONDoc, nullable=False, server_default=text("'{}'")),
)
Index("ix_incident_items_incident", incident_items.c.incident_id)

incident_events = Table(
    "incident_events",
    metadata,
    pk(),
    fk("incident_id", "incidents.id"),
    Column("seq", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("payload", JSONDoc, nullable=False, server_default=text("'{}'")),
    UniqueConstraint("incident_id", "seq"),
)
Index("ix_incident_events_kind_at", incident_events.c.kind, incident_events.c.at)
Index("ix_incident_events_kind_incident", incident_events.c.kind, incident_events.c.incident_id)  # reports

obligations = Table(
    "obligations",
    metadata,
    pk(),
    fk("incident_id", "incidents.id", ondelete="CASCADE"),
    Column("rule_id", String(60), nullable=False),
    Column("instance", Integer, nullable=False, server_default="0"),
    Column("action", String(40), nullable=False),
    Column("clock", String(20), nullable=False),
    Column("t0", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("met_at", UTCDateTime),
    Column("met_by", JSONDoc),
    Column("cancelled_reason", Text),
    Column("paused_until", UTCDateTime),
    # when the ladder first reached 分管领导/主要负责人 past the deadline (已升级); derived from the timeline
    Column("escalated_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("incident_id", "rule_id", "instance"),
)
Index("ix_obligations_status_due", obligations.c.status, obligations.c.due_at)
Index("ix_obligations_due_at", obligations.c.due_at)  # reports: deadlines due in a month

timers = Table(
    "timers",
    metadata,
    pk(),
    fk("incident_id", "incidents.id", ondelete="CASCADE"),
    Column("due_at", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False),  # fencing: stale when != incidents.generation
    Column("reason", String(100), nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_until", UTCDateTime),
    Column("fired_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_timers_pending", timers.c.fired_at, timers.c.due_at)
# one wake-up per (incident, generation, time): replans that agree merge instead of piling up
Index("ux_timers_incident_wakeup", timers.c.incident_id, timers.c.generation, timers.c.due_at, unique=True)

# --- engine --------------------------------------------------------------------------
# Playbook snapshots, shared by every incident confirmed under the same rules (incidents.playbook_hash).
playbook_snapshots = Table(
    "playbook_snapshots",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("jurisdiction", Text, nullable=False),
    Column("body", JSONDoc, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    pk(),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    fk("incident_id", "incidents.id", nullable=True, ondelete="SET NULL"),
    fk("obligation_id", "obligations.id", nullable=True, ondelete="SET NULL"),
    Column("kind", String(40), nullable=False),  # deadline_warning | breach | escalation | system | report …
    Column("urgent", Boolean, nullable=False, server_default=text("false")),
    Column("recipient", String(100)),  # person id (None = channel-wide / system)
    Column("channel", String(20)),  # chosen at delivery time when None
    Column("payload", JSONDoc, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("channel_attempts", Integer, nullable=False, server_default="0"),  # tries on `channel` so far
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)
Index("ix_outbox_pending", outbox.c.status, outbox.c.next_attempt_at)
Index("ix_outbox_incident", outbox.c.incident_id)

# One row per outbox row per delivery attempt, written BEFORE the send (outcome 'sending') and
# completed after it: a crash in between leaves the evidence the next worker needs to resolve the
# doubt. Rows sent together as one message (a digest) share `message_id`. Robot rate limits are
# counted from here, so they hold across workers.
notification_attempts = Table(
    "notification_attempts",
    metadata,
    pk(),
    fk("outbox_id", "outbox.id", ondelete="CASCADE"),
    Column("message_id", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("target", String(200), nullable=False),  # e.g. dingtalk:emergency-dingtalk, slack:U0…, email:a@b
    Column("worker", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(20), nullable=False),  # sending | sent | failed | rate_limited | recovered
    Column("error", Text),
    Column("blocked_until", UTCDateTime),  # the channel said: nothing more to this target before then
    Column("cost", Integer, nullable=False, server_default="0"),  # requests counted against the target's limit
    Column("detail", JSONDoc, nullable=False, server_default=text("'{}'")),
)
Index("ix_notification_attempts_target", notification_attempts.c.target, notification_attempts.c.started_at)
Index("ix_notification_attempts_outbox", notification_attempts.c.outbox_id)

users = Table(
    "users",
    metadata,
    pk(),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("unit_id", String(100)),  # unit handlers see only this unit's incidents
    Column("person_id", String(100)),  # link to the org directory
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime),
    Column("api_token_hash", String(128)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_users_api_token_hash", users.c.api_token_hash, unique=True)

audit_log = Table(
    "audit_log",
    metadata,
    pk(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target_type", String(40), nullable=False),
    Column("target_id", String(100)),
    Column("before", JSONDoc),
    Column("after", JSONDoc),
    Column("ip", String(64)),
    Column("request_id", String(64)),
)
Index("ix_audit_log_target", audit_log.c.target_type, audit_log.c.target_id)
Index("ix_audit_log_at", audit_log.c.at)

corrections = Table(
    "corrections",
    metadata,
    pk(),
    fk("item_id", "items.id", nullable=True, ondelete="SET NULL"),
    fk("incident_id", "incidents.id", nullable=True, ondelete="SET NULL"),
    Column("field", String(40), nullable=False),  # relevant | department | event_level | event_type | region
    Column("old_value", Text),
    Column("new_value", Text),
    Column("actor", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("used_in_model", String(64)),  # model version that folded it in
)
Index("ix_corrections_at", corrections.c.at)  # reports: corrections made in a month

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("component", String(40), primary_key=True),
    Column("instance", String(100), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("info", JSONDoc, nullable=False, server_default=text("'{}'")),
)

# --- web (duty queue) ---------------------------------------------------------------
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # HMAC of the cookie value; the cookie itself is never stored
    fk("user_id", "users.id", ondelete="CASCADE"),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
)
Index("ix_web_sessions_user", web_sessions.c.user_id)

saved_views = Table(
    "saved_views",
    metadata,
    pk(),
    fk("user_id", "users.id", ondelete="CASCADE"),
    Column("name", String(100), nullable=False),
    Column("query", JSONDoc, nullable=False, server_default=text("'{}'")),  # queue filter parameters
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name"),
)

org_people = Table(
    # People edited on the /org page. The org file (org_file) stays the base; a row here replaces
    # the file's person with the same id (or adds one) in every process's directory; disabled
    # people are left out of it (no alerts, no role) but kept, so they can be enabled again.
    "org_people",
    metadata,
    Column("person_id", String(100), primary_key=True),
    Column("data", JSONDoc, nullable=False),  # name, title, mobile, email, slack_user, roles, channels, quiet_hours
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(100), nullable=False),
)

APPEND_ONLY_TABLES = ("incident_events", "audit_log")
