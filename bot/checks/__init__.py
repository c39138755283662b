"""Live checks started from Slack, with no Slack imports: ``runner`` (admit, launch, drain,
sweep), ``progress`` (the stage-update coalescer), ``limits`` (rate limits and the lockout
guard) and ``advice`` (what a report means for the user)."""
