"""Who a help thread belongs to: the person whose question started it.

Only the asker acts on their thread (marks it fixed, escalates it in their name, gets
a modal prefilled with what the thread learned); everyone else is offered a thread
of their own. Kept beside the engine's document in the thread's store state.
"""

from __future__ import annotations

from typing import Final

from bot.store.base import Documents

ASKER_FIELD: Final = "asker"


async def remember_asker(store: Documents, thread_key: str, user: str) -> str:
    """Record ``user`` as the thread's asker unless it already has one; return the asker."""
    current = (await store.get_thread(thread_key)).get(ASKER_FIELD)
    if isinstance(current, str) and current:
        return current
    await store.update_thread(thread_key, {ASKER_FIELD: user})
    return user


async def asker_of(store: Documents, thread_key: str) -> str | None:
    """The thread's asker, or None for a thread the store no longer knows."""
    current = (await store.get_thread(thread_key)).get(ASKER_FIELD)
    return current if isinstance(current, str) and current else None
