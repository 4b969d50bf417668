"""The operator console: server-rendered pages for the command center and local staff.

::

    browser ──login──▶ pages/login ──▶ accounts (argon2) + sessions (SQLite) + ratelimit
    browser ◀──SSE─── pages/alerts.feed_stream ◀── feed.ChangeFeed ◀── alerts.updated_at
    browser ──form──▶ pages/alerts (CSRF) ──▶ Operations (store + audit + ack to terminal)
    Escalator.run() ──▶ alerts.escalation_level + timeline "escalated" (bumps updated_at)

Wiring: :func:`gateway.console.context.open_console` builds a :class:`Console`;
:func:`gateway.console.routes.console_routes` gives its routes; ``console.auth`` (a
:class:`~gateway.console.auth.SessionAuth`) joins ``app.state.authenticators``; and
``console.escalator().run()`` joins the process's TaskGroup.
"""
