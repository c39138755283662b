"""Process life: ``serve`` (HTTP or Socket Mode), ``wiring`` (the one composition root and
the only module that imports ``handlers``), ``deps`` (what handlers are given), Bolt
``middleware``, the aiohttp ``server`` (``/slack/events``, ``/healthz``, ``/metrics``,
sweep and drain) and the process ``metrics``."""
