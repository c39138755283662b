"""Sign in with Microsoft or Google to get an access token for one XOAUTH2 probe.

- ``settings``: the operator's client registrations and identity-provider URLs.
- ``pkce`` and ``device``: pure flow logic (PKCE verifier and challenge, ``state``
  values, the RFC 8628 device-code polling state machine).
- ``errors``: what went wrong at the identity provider, in our terms (AADSTS codes).
- ``client``: the thin aiohttp client for the identity provider's endpoints.
- ``flows``: the two sign-ins end to end (device code, authorization code + PKCE).
- ``loopback``: the RFC 8252 loopback redirect the CLI listens on.
- ``pending`` and ``web``: the bot's side of the Google callback (state bound to a
  Slack user and check, stored only as a hash, single use).

No Slack here. Every token, code and verifier is a ``Secret`` from the moment it
is read; the token is handed to the probe once and dropped.
"""
