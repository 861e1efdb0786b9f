"""The acknowledgement links of a deployment: ``HAZE_ACK_LINK_KEY`` if set, else a key the
first process made and stored (``console_keys``), so that every process, and the same one
after a restart, signs and checks the same links."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.notify.ack_links import AckLinks
from service.settings import Settings
from service.storage.repositories.console import shared_key

KEY_NAME = "ack_links"


async def load_ack_links(session: AsyncSession, settings: Settings) -> AckLinks:
    key = None if settings.ack_link_key else (await shared_key(session, KEY_NAME)).encode()
    return AckLinks.from_settings(settings, key=key)
