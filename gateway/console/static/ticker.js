// Ticks every element with data-since (Unix seconds) once a second: "3m 05s", and every
// element with data-until down to zero (a responder's time left to answer).
// data-now is the server's clock when the page was rendered, so a skewed
// browser clock does not skew the ages.
"use strict";
(() => {
  const since = document.querySelectorAll("[data-since]");
  const until = document.querySelectorAll("[data-until]");
  const first = since[0] || until[0];
  if (!first) return;
  const serverNow = Number(first.dataset.now || Date.now() / 1000);
  const offset = serverNow - Date.now() / 1000;
  const format = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
    if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
    return `${sec}s`;
  };
  const tick = () => {
    const now = Date.now() / 1000 + offset;
    for (const el of since) el.textContent = format(now - Number(el.dataset.since));
    for (const el of until) el.textContent = format(Number(el.dataset.until) - now);
  };
  tick();
  setInterval(tick, 1000);
})();
