// One alarm's page: follow the alarm over the live feed and say when it changed
// (accepted elsewhere, escalated, resolved) so nobody acts on a stale page. While only
// its call sequence moves on (the next responder is called), the page refreshes itself
// unless the operator is typing into one of its forms.
"use strict";
(() => {
  const marker = document.getElementById("alert-live");
  const banner = document.getElementById("changed");
  const shown = Number(marker.dataset.updated);
  const stage = marker.dataset.stage, level = marker.dataset.level;
  const query = new URLSearchParams({
    terminal_id: marker.dataset.terminal, alert_id: marker.dataset.alert,
  });
  const busy = () => {
    const active = document.activeElement;
    if (active && active.matches("input, select, textarea")) return true;
    if (document.getElementById("access-text")) return true; // shown once, on request
    return [...document.querySelectorAll("form input:not([type=hidden]), form textarea")]
      .some((el) => el.value !== el.defaultValue);
  };
  const reload = () => location.assign(location.pathname);
  const source = new EventSource("/console/feed?" + query);
  const check = (event) => {
    const { alerts } = JSON.parse(event.data);
    const changed = alerts.find((a) => a.updated_at > shown);
    if (!changed) return;
    source.close();
    const onlyCalling = changed.stage === stage && String(changed.level) === level;
    if (onlyCalling && !busy()) reload();
    else banner.hidden = false;
  };
  source.addEventListener("snapshot", check);
  source.addEventListener("alerts", check);
  document.getElementById("reload").addEventListener("click", reload);
})();
