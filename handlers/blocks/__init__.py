"""Block Kit built by pure functions: plain dicts in, plain dicts out, tested with dict asserts.

``kit`` holds the primitives and Slack's limits (every piece of text that came from a
server, a user or the knowledge base goes through ``escape`` and ``clip``); ``modal``
the probe modal; ``check`` a live check's progress, verdict and escalation; ``turns``
help-thread answers; ``home`` the App Home tab and the helpdesk figures.
"""
