"""The helpdesk numbers: ``recorder`` (counting checks, questions and resolutions, and the
summaries read back), ``model`` (the figures), ``text`` (their wording) and ``prometheus``."""
