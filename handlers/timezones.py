"""The reader's time zone, from ``users.info`` (what the ``users:read`` scope is for),
cached per process so a busy App Home costs one lookup per person a day."""

from __future__ import annotations

import logging
import time
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

TZ_TTL: Final = 24 * 3600.0
CACHE_MAX: Final = 10_000
_cache: dict[str, tuple[float, tzinfo]] = {}


def zone_of(user: dict[str, object]) -> tzinfo:
    """The zone a ``users.info`` user is in: its IANA name, else its offset, else UTC."""
    name, offset = user.get("tz"), user.get("tz_offset")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if isinstance(offset, int) and -86_400 < offset < 86_400:
        return timezone(timedelta(seconds=offset))
    return UTC


async def reader_zone(client: AsyncWebClient, user_id: str) -> tzinfo:
    """``user_id``'s time zone (UTC when Slack cannot say)."""
    now = time.monotonic()
    cached = _cache.get(user_id)
    if cached is not None and now - cached[0] < TZ_TTL:
        return cached[1]
    try:
        found = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as exc:
        log.info("no time zone for a user: %s", exc.response.get("error"))
        return UTC
    zone = zone_of(found if isinstance(found, dict) else {})
    if len(_cache) >= CACHE_MAX:
        _cache.clear()
    _cache[user_id] = (now, zone)
    return zone
