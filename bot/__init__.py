"""smtpcheck: SMTP authentication troubleshooting as a Slack bot and a CLI."""
