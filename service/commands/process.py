"""A process of Haze Response: the runtime with the consumers it runs, and the app on it.

``haze serve`` runs :func:`create_app` (API, and both consumers unless ``--no-consumers``);
``haze consume`` runs :func:`build_runtime` with the consumers named. Tests and benchmarks
build their processes here too, so they run what production runs.
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import FastAPI

from consumers.forecasts import ForecastsHandler
from consumers.readings import ReadingsHandler
from consumers.runner import ConsumerLoop
from service.api.app import create_api
from service.runtime import Runtime
from service.settings import Settings


def build_runtime(settings: Settings, *, consumers: bool | Collection[str] = True) -> Runtime:
    """A runtime with the handlers of ``consumers`` (True: all) on its bus."""
    runtime = Runtime(settings, consumers=consumers, consumer_loop=ConsumerLoop)
    if "readings" in runtime.consumers:
        readings = ReadingsHandler(
            runtime.session_maker, runtime.dead_letter, lambda: runtime.state.tree
        )
        runtime.bus.subscribe(settings.kafka_topic_readings, readings)
    if "forecasts" in runtime.consumers:
        forecasts = ForecastsHandler(
            runtime.board_change,
            lambda: runtime.state.warnings,
            lambda: runtime.state.board,
            runtime.dead_letter,
            announce=runtime.announce,
            remember=runtime.outcomes.remember,
        )
        runtime.bus.subscribe(settings.kafka_topic_forecasts, forecasts)
    return runtime


def create_app(settings: Settings, *, consumers: bool = True) -> FastAPI:
    """The API; ``consumers=False`` leaves the readings and forecasts to other processes."""
    return create_api(build_runtime(settings, consumers=consumers))
