// One alarm's page: follow the alarm over the live feed and say when it changed
// (accepted elsewhere, escalated, resolved) so nobody acts on a stale page.
"use strict";
(() => {
  const marker = document.getElementById("alert-live");
  const banner = document.getElementById("changed");
  const shown = Number(marker.dataset.updated);
  const query = new URLSearchParams({
    terminal_id: marker.dataset.terminal, alert_id: marker.dataset.alert,
  });
  const source = new EventSource("/console/feed?" + query);
  const check = (event) => {
    const { alerts } = JSON.parse(event.data);
    if (alerts.some((a) => a.updated_at > shown)) {
      banner.hidden = false;
      source.close();
    }
  };
  source.addEventListener("snapshot", check);
  source.addEventListener("alerts", check);
  document.getElementById("reload").addEventListener("click", () => {
    location.assign(location.pathname);
  });
})();
