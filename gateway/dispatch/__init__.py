"""Who goes to the elder: elders' records, the responder call sequence, service requests.

::

    alerts (emergency) ─▶ Dispatcher.sweep ─▶ core.dispatch.step ─▶ SequenceStore (one commit:
        state + attempt + timeline + alert.dispatch event) ─▶ outbox ─▶ telephony/SMS
    responder answers ─▶ POST /api/v1/responders/answer ─▶ DispatchDesk ─▶ same step
        accepted: alert → accepted (same commit) ─▶ ack to the terminal with the name, ETA
    alerts (meal, errand …) ─▶ service lane ─▶ DispatchDesk.schedule / assign / complete

Wiring: :func:`gateway.dispatch.wiring.dispatch_parts` builds the desk and the worker;
``Dispatcher.run()`` joins the process's TaskGroup.
"""
