"""A process of Haze Response: the runtime with the consumers it runs, and the app on it.

``haze serve`` runs :func:`create_app` (API, and both consumers unless ``--no-consumers``);
``haze consume`` runs :func:`build_runtime` with the consumers named. Tests and benchmarks
build their processes here too, so they run what production runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from consumers.compliance import ComplianceWorker
from consumers.delivery import DeliveryWorker
from consumers.escalation import Escalator
from consumers.forecasts import ForecastsHandler
from consumers.isolation import Isolating
from consumers.notices import NoticesHandler
from consumers.readings import ReadingsHandler
from consumers.readings_refresh import WindowsRefresher
from consumers.telemetry import TelemetryHandler
from emission_list.compliance_rules import default_compliance_rules
from service.api.app import create_api
from service.bus import Handler
from service.gateway.server import Gateway
from service.hj212 import codes
from service.notify.message import Channel
from service.notify.webhook import WebhookChannel
from service.runtime import Runtime
from service.services.alarm_notices import record_alarm_notices
from service.settings import Settings
from service.storage.models import Alarm
from service.storage.repositories import lists
from service.telemetry.routing import BusSink

if TYPE_CHECKING:
    from service.bus.kafka import ConsumerLoopLike, Probe
    from service.metrics import Metrics


def consumer_loop(
    settings: Settings,
    topic: str,
    group: str | None,
    handler: Handler,
    metrics: Metrics,
    probe: Probe | None,
) -> ConsumerLoopLike:
    """A Kafka consumer loop (aiokafka is imported only by a process on Kafka)."""
    from consumers.runner import ConsumerLoop

    return ConsumerLoop(settings, topic, group, handler, metrics, probe)


def build_runtime(settings: Settings, *, consumers: bool | Collection[str] = True) -> Runtime:
    """A runtime with the handlers of ``consumers`` (True: all) on its bus, each wrapped so
    that a record it raises on is dead-lettered, not retried (:class:`Isolating`)."""
    runtime = Runtime(settings, consumers=consumers, consumer_loop=consumer_loop)

    def subscribe(topic: str, handler: Handler) -> None:
        isolated = Isolating(handler, runtime.dead_letter, runtime.metrics, topic)
        runtime.bus.subscribe(topic, isolated)

    if "readings" in runtime.consumers:
        readings = ReadingsHandler(
            runtime.session_maker,
            runtime.dead_letter,
            lambda: runtime.state.tree,
            future_tolerance=runtime.future_tolerance,
            mark_windows=settings.coalesces_windows,
        )
        subscribe(settings.kafka_topic_readings, readings)
        if settings.coalesces_windows:
            runtime.workers.append(windows_refresher(runtime))
    if "forecasts" in runtime.consumers:
        forecasts = ForecastsHandler(
            runtime.board_change,
            lambda: runtime.state.warnings,
            lambda: runtime.state.board,
            runtime.dead_letter,
            announce=runtime.announce,
            remember=runtime.outcomes.remember,
            future_tolerance=runtime.future_tolerance,
        )
        subscribe(settings.kafka_topic_forecasts, forecasts)
    if "notify" in runtime.consumers:
        worker = DeliveryWorker(
            runtime.session_maker,
            notice_channels(settings),
            settings,
            runtime.metrics,
            lambda: runtime.ack_links,
        )
        runtime.workers.append(worker)
        runtime.workers.append(Escalator(runtime.session_maker, settings, worker.kick))
        notices = NoticesHandler(
            runtime.session_maker,
            lambda: runtime.state.board,
            runtime.catalog,
            runtime.dead_letter,
            worker.kick,
        )
        subscribe(settings.kafka_topic_actions, notices)
    if "telemetry" in runtime.consumers:
        compliance = compliance_worker(runtime)
        runtime.workers.append(compliance)
        telemetry = TelemetryHandler(runtime.session_maker, runtime.dead_letter, compliance.observe)
        subscribe(settings.kafka_topic_telemetry, telemetry)
    return runtime


def windows_refresher(runtime: Runtime) -> WindowsRefresher:
    """The refresh of the windows and region AQI this process's readings batches mark."""
    return WindowsRefresher(
        runtime.session_maker,
        lambda: runtime.state.tree,
        interval_s=runtime.settings.readings_refresh_s,
    )


def compliance_worker(runtime: Runtime) -> ComplianceWorker:
    """The compliance check of this process, on the runtime's board and logger registry."""
    settings = runtime.settings

    async def publish(session: AsyncSession, changed: Sequence[Alarm], now: dt.datetime) -> bool:
        runtime.announce_alarms(session, changed)
        return await record_alarm_notices(session, changed, now, tree=runtime.state.tree)

    def stored(notified: bool) -> None:
        runtime.relay.kick()
        if notified:
            runtime.kick_workers()

    rules = default_compliance_rules()
    if rules.interval_s != settings.compliance_interval_s:  # K, M, N count its intervals
        raise ValueError(
            f"HAZE_COMPLIANCE_INTERVAL_S is {settings.compliance_interval_s} s but the "
            f"compliance rules (emission_list/data/compliance_rules.json) count intervals of "
            f"{rules.interval_s} s: change both together"
        )
    worker = ComplianceWorker(
        runtime.session_maker,
        lambda: runtime.state.board,
        lists.published,
        runtime.loggers,
        runtime.loggers.registrations,
        rules,
        interval_s=settings.compliance_interval_s,
        grace_s=settings.compliance_grace_s,
        history_weeks=settings.compliance_history_weeks,
        min_history=settings.compliance_min_history,
        valid_flags=codes.VALID_FLAGS,
        keep_days=settings.telemetry_keep_days,
        publish=publish,
        stored=stored,
        timezone=settings.gateway_timezone,
    )
    runtime.metrics.follow_compliance(worker.counts)
    return worker


def attach_gateway(runtime: Runtime, *, port: int | None = None) -> Gateway:
    """An HJ 212 gateway on ``runtime``'s bus (started and stopped with it): station hourly
    data to ``haze.readings``, enterprises' loggers to ``haze.telemetry``."""
    settings = runtime.settings
    sink = BusSink.from_settings(runtime.bus, settings, runtime.dead_letter)
    runtime.gateway = Gateway(runtime.loggers, sink, settings, runtime.metrics, port=port)
    return runtime.gateway


def notice_channels(settings: Settings) -> dict[str, Channel]:
    """The channels this deployment has: webhooks always, SMS and email when configured."""
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(settings.webhook_timeout_s, settings.notify_concurrency)
    }
    if settings.sms_gateway_url:  # aiohttp and aiosmtplib imported only when configured
        from service.notify.sms import SmsChannel

        channels["sms"] = SmsChannel(settings)
    if settings.smtp_host:
        from service.notify.email import EmailChannel

        channels["email"] = EmailChannel(settings)
    return channels


def create_app(settings: Settings, *, consumers: bool = True) -> FastAPI:
    """The API; ``consumers=False`` leaves the readings and forecasts to other processes.
    With ``HAZE_GATEWAY_PORT`` set the process runs the HJ 212 gateway too."""
    runtime = build_runtime(settings, consumers=consumers)
    if settings.gateway_port is not None:
        attach_gateway(runtime)
    return create_api(runtime)
