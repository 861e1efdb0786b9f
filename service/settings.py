"""The one settings object of Haze Response, read from ``HAZE_``-prefixed environment variables.

Build it once in the composition root (:mod:`service.commands.cli`) and pass it explicitly to
``create_app`` and the consumer runner; tests build it from arguments.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_ADMIN_TOKEN_LENGTH = 32


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/haze-response``, else ``~/.local/share/haze-response``: one place per
    user, whatever the current directory."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "haze-response"


class Settings(BaseSettings):
    """Settings of the API, the database, the event bus and the consumers."""

    model_config = SettingsConfigDict(env_prefix="HAZE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded SQLite file lives (made absolute).",
    )
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty = SQLite file under data_dir."
    )
    seed_sample: bool | None = Field(
        None,
        description="Load the sample Kundulun data into an empty database at `haze serve`; "
        "unset = only on the embedded default (no HAZE_DATABASE_URL).",
    )
    kafka_bootstrap: str = Field("", description="Kafka bootstrap servers; empty = in-process bus.")
    admin_token: SecretStr | None = Field(
        None, description="If set, accepted as an operator token (automation)."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies get 413.")
    readings_future_tolerance_s: int = Field(
        600, ge=0, description="Readings stamped further in the future are rejected."
    )
    readings_refresh_s: float = Field(
        1.0,
        ge=0,
        description="A readings consumer on Kafka and PostgreSQL recomputes the stations' "
        "24-hour results and the regions' AQI its batches changed this often [s] (once per "
        "region-hour however many batches touched it): a reading is reflected within this "
        "plus one refresh. 0 = in each batch's transaction (the in-process bus and SQLite "
        "always do that).",
    )
    database_echo: bool = False
    token_cache_s: float = Field(
        300.0, ge=0, description="Seconds a checked token is trusted without a database read."
    )
    polling_fast_path: bool = Field(
        True,
        description="Answer the polls of GET /api/v1/enterprises/{id}/actions before the "
        "router (the same answers, cheaper); off: through the router.",
    )
    # The notices' SMS and email channels and their acknowledgement links
    # (docs/notices-channels.md).
    sms_gateway_url: str = Field(
        "", description="The HTTP SMS gateway notices are POSTed to; empty = SMS off."
    )
    sms_auth_header: str = Field(
        "Authorization", description="The header that carries the gateway's credential."
    )
    sms_auth_value: SecretStr | None = Field(
        None, description="Its value, e.g. 'Bearer ...'; unset = no authentication header."
    )
    sms_body_template: str = Field(
        '{"to": "$to", "text": "$text", "id": "$message_id"}',
        description="The request body, with $to, $text, $message_id and $language replaced by "
        "values escaped for HAZE_SMS_BODY_FORMAT.",
    )
    sms_body_format: Literal["json", "form"] = Field(
        "json",
        description="json: values JSON-escaped, sent as application/json; form: values "
        "percent-encoded, sent as application/x-www-form-urlencoded.",
    )
    sms_max_segments: int = Field(
        3, ge=1, le=10, description="An SMS text is cut to fit this many concatenated segments."
    )
    sms_timeout_s: float = Field(10.0, gt=0, description="A gateway request taking longer: retry.")
    sms_signature: str = Field(
        "昆都仑区生态环境分局",
        min_length=1,
        description="The sender's signature (签名) a Chinese SMS starts with, in 【】.",
    )
    sms_signature_en: str = Field(
        "Kundulun EEB", min_length=1, description="The signature of an English SMS."
    )
    smtp_host: str = Field("", description="SMTP server of the email notices; empty = email off.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = Field("", description="SMTP login; empty = no authentication.")
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field(
        "Kundulun EEB <haze-notices@localhost>", description="The From of email notices."
    )
    smtp_timeout_s: float = Field(30.0, gt=0, description="An SMTP exchange taking longer: retry.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The base URL acknowledgement links (and other public links) point to.",
    )
    ack_link_hours: float = Field(
        72.0, gt=0, description="An acknowledgement link in an SMS or email expires after this."
    )
    ack_link_key: SecretStr | None = Field(
        None,
        description="The key signing acknowledgement links (at least 32 characters); the same "
        "on every process that sends or checks them.",
    )
    kafka_topic_readings: str = "haze.readings"
    kafka_topic_forecasts: str = "haze.forecasts"
    kafka_topic_alerts: str = "haze.alerts"
    kafka_topic_actions: str = "haze.actions"
    kafka_topic_dlq: str = "haze.dlq"
    kafka_partitions: int = Field(
        4, ge=1, description="Partitions of topics `haze topics create` makes."
    )
    kafka_replication: int = Field(1, ge=1, description="Replication factor of those topics.")
    kafka_group_readings: str = "haze-readings"
    kafka_group_forecasts: str = "haze-forecasts"
    kafka_idempotent: bool = Field(
        True, description="Idempotent producer (Apache Kafka); off for brokers without it."
    )
    kafka_request_timeout_s: float = Field(
        5.0, gt=0, description="A publish not acknowledged within this answers 503."
    )
    ready_timeout_s: float = Field(
        2.0, gt=0, description="How long /readyz waits for the database and the broker."
    )
    kafka_session_timeout_ms: int = Field(10_000, ge=1000)
    kafka_heartbeat_ms: int = Field(3_000, ge=100)
    kafka_max_batch: int = Field(5_000, ge=1, description="Records a consumer takes at once.")
    metrics_port: int = Field(9100, ge=0, le=65535, description="Consumers' /metrics (0: none).")
    refresh_interval_s: float = Field(
        30.0, gt=0, description="How often alerts that start or end with time are applied."
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, description="Requests whose headers add up to more get 431."
    )
    rate_limit_operator: str = Field(
        "600/minute", description="Requests per operator token ('N/second|minute|hour|day')."
    )
    rate_limit_station: str = Field("600/minute", description="Requests per station token.")
    rate_limit_enterprise: str = Field("120/minute", description="Requests per enterprise token.")
    rate_limit_anonymous: str = Field(
        "60/minute", description="Requests without a valid token, per client address."
    )
    rate_limit_public: str = Field(
        "600/minute",
        description="Requests to the public warnings (/public, /cap/...) per client address.",
    )
    cap_sender: str = Field(
        "包头市生态环境局昆都仑区分局",
        min_length=1,
        max_length=200,
        pattern=r"^[^\s,<>&]+$",
        description="CAP `sender` (GB/T 35965.1: the issuing unit's name; no spaces, commas, "
        "< > or &) and the Chinese `senderName`.",
    )
    cap_sender_name_en: str = Field(
        "Kundulun Branch, Baotou Ecology and Environment Bureau",
        min_length=1,
        max_length=200,
        description="The English `senderName` of the CAP documents.",
    )
    cap_sender_code: str = Field(
        "15020300000000",
        pattern=r"^[0-9]{14}$",
        description="GB/T 35965.1 issuing-unit code ZZZZZZDDDUUUXX: the GB/T 2260 division "
        "code, the GB/T 4657 organisation code (DDD), the unit's internal code and extension; "
        "it starts every CAP identifier.",
    )
    public_grades: bool = Field(
        False, description="Show the enterprises' performance grades on /public."
    )
    console_session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="A console session ends this long after sign-in."
    )
    console_upload_bytes: int = Field(
        20 * 1_048_576,
        ge=1024,
        description="Largest list file (CSV/XLSX) the console takes; other bodies keep "
        "HAZE_MAX_BODY_BYTES.",
    )

    kafka_group_notify: str = "haze-notify"
    notify_concurrency: int = Field(
        256, ge=1, le=10_000, description="Notices a delivery worker has in flight at once."
    )
    notify_claim_batch: int = Field(
        500, ge=1, le=10_000, description="Deliveries a worker takes from the database at a time."
    )
    notify_lease_s: float = Field(
        120.0,
        gt=0,
        description="A delivery a worker took and did not finish (it died) is tried again "
        "after this.",
    )
    notify_poll_s: float = Field(
        1.0, gt=0, description="How often a worker looks for deliveries others queued."
    )
    notify_retry_base_s: float = Field(
        2.0, gt=0, description="First retry after about this; doubles per attempt (jittered)."
    )
    notify_retry_cap_s: float = Field(
        600.0, gt=0, description="Longest wait between two attempts of a notice."
    )
    notify_give_up_hours: float = Field(
        24.0, gt=0, description="A notice still undelivered this long after it was made is dead."
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, description="A webhook receiver must answer within this."
    )
    escalate_after_min: float = Field(
        30.0,
        gt=0,
        description="An orange or red notice not acknowledged this long is sent again.",
    )
    escalate_second_after_min: float = Field(
        60.0,
        gt=0,
        description="... and this long, sent to the subscriptions' second contacts.",
    )

    # HJ 212 gateway (service.gateway) and the compliance check (docs/compliance.md)
    gateway_host: str = Field("0.0.0.0", description="Address the HJ 212 gateway listens on.")
    gateway_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="TCP port of the HJ 212 gateway inside `haze serve`; unset = no gateway "
        "(`haze gateway` defaults to 9212).",
    )
    gateway_idle_s: float = Field(
        900.0, gt=0, description="A logger connection silent this long is closed."
    )
    gateway_max_connections: int = Field(
        10_000, ge=1, description="Logger connections one gateway process holds at once."
    )
    gateway_flush_ms: float = Field(
        5.0,
        gt=0,
        description="Packets of all connections are published together at most this long "
        "after the first arrived (then acknowledged with 9014).",
    )
    gateway_batch: int = Field(2_000, ge=1, description="... or as soon as this many are waiting.")
    gateway_timezone: str = Field(
        "Asia/Shanghai",
        description="Time zone of the loggers' DataTime and QN when a logger's registration "
        "names none.",
    )
    kafka_topic_telemetry: str = "haze.telemetry"
    kafka_topic_alarms: str = "haze.alarms"
    kafka_group_telemetry: str = "haze-telemetry"
    telemetry_future_tolerance_s: int = Field(
        600, ge=0, description="Telemetry stamped further ahead of the clock is refused."
    )
    telemetry_max_age_h: float = Field(
        72.0,
        gt=0,
        description="Older telemetry (a logger replaying its backlog) is refused as stale.",
    )
    telemetry_keep_days: int = Field(
        35, ge=1, description="Minute telemetry is kept this long (the alarms' evidence)."
    )
    compliance_interval_s: int = Field(
        60, ge=10, le=3600, description="The compliance check's interval (minute data)."
    )
    compliance_grace_s: float = Field(
        10.0,
        gt=0,
        description="An interval is judged at the latest this long after its first packet "
        "(or its end, when none came), whether every logger reported or not.",
    )
    compliance_history_weeks: int = Field(
        4,
        ge=1,
        le=52,
        description="Weeks of history (outside warnings) a production line's normal load "
        "is the median of.",
    )
    compliance_min_history: int = Field(
        7,
        ge=1,
        description="Fewer hours of history behind a normal load: reported as too little "
        "history, never guessed.",
    )

    @field_validator("admin_token")
    @classmethod
    def _admin_token_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"HAZE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters"
            )
        return value

    @field_validator(
        "rate_limit_operator",
        "rate_limit_station",
        "rate_limit_enterprise",
        "rate_limit_anonymous",
        "rate_limit_public",
    )
    @classmethod
    def _rate_limit_readable(cls, value: str) -> str:
        from service.rate_limit import parse_limit

        parse_limit(value)  # raises ValueError on anything but "N/unit" ("", "0": no limit)
        return value.strip()

    @field_validator("ack_link_key")
    @classmethod
    def _ack_key_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"HAZE_ACK_LINK_KEY must be at least {MIN_ADMIN_TOKEN_LENGTH} characters"
            )
        return value

    @model_validator(mode="after")
    def _sms_body_renders(self) -> Settings:
        from service.notify.sms_body import check_template

        check_template(self.sms_body_template, self.sms_body_format)
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().absolute()
        if self.seed_sample is None:
            self.seed_sample = not self.database_url
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.embedded_path.as_posix()}"
        return self

    @property
    def embedded_path(self) -> Path:
        """The embedded SQLite file (used when HAZE_DATABASE_URL is empty)."""
        return self.data_dir / "haze.db"

    @property
    def is_embedded(self) -> bool:
        """The database is the embedded default's SQLite file under data_dir."""
        return self.database_url == f"sqlite+aiosqlite:///{self.embedded_path.as_posix()}"

    @property
    def database_shown(self) -> str:
        """The database URL without its password, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def coalesces_windows(self) -> bool:
        """Readings consumers leave windows and region AQI to a refresh
        (``readings_refresh_s``): on Kafka with PostgreSQL only."""
        return bool(self.kafka_bootstrap) and not self.is_sqlite and self.readings_refresh_s > 0
