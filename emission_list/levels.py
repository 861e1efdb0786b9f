"""Warning levels, episode drivers and responses, and the pollutants the list cuts."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Level(IntEnum):
    """Heavy-pollution warning level; higher is more severe (red = level I)."""

    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str | int | Level) -> Level:
        if isinstance(name, int):
            return cls(name)
        return cls[str(name).strip().upper()]


WARNING_LEVELS: tuple[Level, ...] = (Level.YELLOW, Level.ORANGE, Level.RED)


class Driver(StrEnum):
    """What a forecast day's pollution is driven by."""

    PM25 = "pm25"
    O3 = "o3"
    DUST = "dust"
    FIRE = "fire"
    TRANSPORT = "transport"


class Response(StrEnum):
    """Which response a warning orders: the list's full measures, O3 measures only, or advice."""

    FULL = "full"
    O3 = "o3"
    ADVISORY = "advisory"


#: Pollutants the emission-reduction list cuts, in this order in every array [kg/day].
LIST_POLLUTANTS: tuple[str, ...] = ("so2", "nox", "pm", "vocs")

#: Under an O3-driven warning only these list pollutants are cut (precursors of ozone).
O3_RESPONSE_POLLUTANTS: tuple[str, ...] = ("nox", "vocs")
