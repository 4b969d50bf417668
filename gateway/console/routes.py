"""Where each console page lives.

``console_routes(console)`` returns, for ``build_app(state, extra_routes=…)``:

* ``/console/…``           the console (login, feed, alarms, reports, wall display,
                            terminals, cameras, elders' records, accounts)
* ``/console/static/…``    its CSS and scripts
* ``/api/v1/openapi.json`` the API description, and ``/api/docs`` to read it

``console`` comes from :func:`gateway.console.context.open_console`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.console.context import Console
from gateway.console.pages import (
    admin,
    alerts,
    apidocs,
    cameras,
    dispatch,
    elders,
    kiosk,
    login,
    reports,
    terminals,
)

STATIC = Path(__file__).parent / "static"


def console_routes(console: Console) -> list[BaseRoute]:
    """Routes of the console and of the API description (see the module docstring)."""
    page, action = console.page, console.action
    alert = "/alerts/{terminal_id}/{alert_id}"
    pages: list[BaseRoute] = [
        Route("/", page(alerts.feed_page), name="feed"),
        Route("/feed", partial(alerts.feed_stream, console)),
        Route("/login", partial(login.login_form, console)),
        Route("/login", partial(login.login_submit, console), methods=["POST"]),
        Route("/logout", action(login.logout, roles=None), methods=["POST"]),
        Route("/language", action(admin.set_language, roles=None), methods=["POST"]),
        Route(alert, page(alerts.detail)),
        Route(alert + "/accept", action(alerts.accept), methods=["POST"]),
        Route(alert + "/assign", action(alerts.assign), methods=["POST"]),
        Route(alert + "/call-back", action(alerts.call_back), methods=["POST"]),
        Route(alert + "/resolve", action(alerts.resolve), methods=["POST"]),
        Route(alert + "/access", action(alerts.show_access), methods=["POST"]),
        Route(alert + "/dispatch/skip", action(dispatch.skip), methods=["POST"]),
        Route(alert + "/dispatch/take-over", action(dispatch.take_over), methods=["POST"]),
        Route(alert + "/dispatch/reassign", action(dispatch.reassign), methods=["POST"]),
        Route(alert + "/service/schedule", action(dispatch.service_schedule), methods=["POST"]),
        Route(alert + "/service/assign", action(dispatch.service_assign), methods=["POST"]),
        Route(alert + "/service/complete", action(dispatch.service_complete), methods=["POST"]),
        Route("/reports", page(reports.reports_page)),
        Route("/reports.csv", page(reports.reports_csv)),
        Route("/kiosk", page(kiosk.kiosk_page)),
        Route("/kiosk/summary", page(kiosk.kiosk_summary)),
        Route("/elders", page(elders.elders_list, admin.ADMIN)),
        Route("/elders/import", action(elders.elders_import, admin.ADMIN), methods=["POST"]),
        Route("/elders/{terminal_id}", page(elders.elder_form, admin.ADMIN)),
        Route("/elders/{terminal_id}", action(elders.elder_save, admin.ADMIN), methods=["POST"]),
        Route("/terminals", page(terminals.terminals_page)),
        Route("/cameras", page(cameras.wall)),
        Route("/cameras/{camera_id}", page(cameras.history)),
        Route(
            "/cameras/{camera_id}/acknowledge",
            action(cameras.acknowledge, cameras.CAMERA_ACTING),
            methods=["POST"],
        ),
        Route(
            "/cameras/{camera_id}/snooze",
            action(cameras.snooze, cameras.CAMERA_ACTING),
            methods=["POST"],
        ),
        Route("/admin/accounts", page(admin.accounts_list, admin.ADMIN)),
        Route("/admin/accounts", action(admin.account_create, admin.ADMIN), methods=["POST"]),
        Route(
            "/admin/accounts/{username}/{change:str}",
            action(admin.account_toggle, admin.ADMIN),
            methods=["POST"],
        ),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return [
        Mount("/console", routes=pages),
        Route("/api/v1/openapi.json", partial(apidocs.openapi_json, console)),
        Route("/api/docs", partial(apidocs.docs_page, console)),
    ]
