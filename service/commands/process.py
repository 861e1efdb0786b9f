"""A process of Haze Response: the runtime with the consumers it runs, and the app on it.

``haze serve`` runs :func:`create_app` (API, and both consumers unless ``--no-consumers``);
``haze consume`` runs :func:`build_runtime` with the consumers named. Tests and benchmarks
build their processes here too, so they run what production runs.
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import FastAPI

from consumers.delivery import DeliveryWorker
from consumers.escalation import Escalator
from consumers.forecasts import ForecastsHandler
from consumers.isolation import Isolating
from consumers.notices import NoticesHandler
from consumers.readings import ReadingsHandler
from consumers.runner import ConsumerLoop
from service.api.app import create_api
from service.bus import Handler
from service.notify.email import EmailChannel
from service.notify.message import Channel
from service.notify.sms import SmsChannel
from service.notify.webhook import WebhookChannel
from service.runtime import Runtime
from service.settings import Settings


def build_runtime(settings: Settings, *, consumers: bool | Collection[str] = True) -> Runtime:
    """A runtime with the handlers of ``consumers`` (True: all) on its bus, each wrapped so
    that a record it raises on is dead-lettered, not retried (:class:`Isolating`)."""
    runtime = Runtime(settings, consumers=consumers, consumer_loop=ConsumerLoop)

    def subscribe(topic: str, handler: Handler) -> None:
        isolated = Isolating(handler, runtime.dead_letter, runtime.metrics, topic)
        runtime.bus.subscribe(topic, isolated)

    if "readings" in runtime.consumers:
        readings = ReadingsHandler(
            runtime.session_maker,
            runtime.dead_letter,
            lambda: runtime.state.tree,
            future_tolerance=runtime.future_tolerance,
        )
        subscribe(settings.kafka_topic_readings, readings)
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
    return runtime


def notice_channels(settings: Settings) -> dict[str, Channel]:
    """The channels this deployment has: webhooks always, SMS and email when configured."""
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(settings.webhook_timeout_s, settings.notify_concurrency)
    }
    if settings.sms_gateway_url:
        channels["sms"] = SmsChannel(settings)
    if settings.smtp_host:
        channels["email"] = EmailChannel(settings)
    return channels


def create_app(settings: Settings, *, consumers: bool = True) -> FastAPI:
    """The API; ``consumers=False`` leaves the readings and forecasts to other processes."""
    return create_api(build_runtime(settings, consumers=consumers))
