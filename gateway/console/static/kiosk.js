// The wall display: the open emergencies live (Server-Sent Events, with the alarm
// sound), a summary by town fetched every few seconds, a clock. Built to run unattended:
// it reconnects by itself, reloads to the login page when the session ends, and repeats
// the alarm while an emergency waits for someone to accept it.
"use strict";
(() => {
  const TEXTS = JSON.parse(document.getElementById("texts").textContent);
  const t = (key, fallback) => TEXTS[key] ?? fallback ?? key;
  const $ = (id) => document.getElementById(id);
  const REMIND_S = 30;
  const refreshS = Number($("towns").dataset.refresh || 5);
  const open = new Map(); // key -> alert view
  const stats = (window.kiosk = { alarms: 0, chimes: 0, summaries: 0, audio: "", rows: 0 });
  const sound = window.consoleSound;
  let offset = Number($("clock").dataset.now) - Date.now() / 1000;
  let seenSnapshot = false;
  let lastAlarm = 0;

  const pad = (n) => String(n).padStart(2, "0");
  const formatAge = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? `${h}h ${pad(m)}m` : `${m}:${pad(s % 60)}`;
  };
  const waiting = (a) => a.lane === "alarm" && (a.stage === "received" || a.stage === "delivered");
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  };

  sound.onChange((state) => {
    stats.audio = state;
    $("sound-gate").hidden = state === "running";
  });
  $("sound").addEventListener("click", () => sound.unlock());

  function alarm() {
    stats.alarms += 1;
    lastAlarm = Date.now();
    sound.alarm();
  }

  function render() {
    const list = $("waiting");
    const now = Date.now() / 1000 + offset;
    const rows = [...open.values()].filter(waiting)
      .sort((x, y) => x.priority - y.priority || x.received_at - y.received_at);
    list.replaceChildren(...rows.map((a) => {
      const li = el("li", "kiosk-alarm");
      li.dataset.kind = a.kind;
      li.dataset.key = a.key;
      li.append(el("span", "kind badge", t("kind." + a.kind, a.kind)));
      li.append(el("span", "village", a.region[2] || ""));
      li.append(el("span", "elder", a.elder || a.terminal_id));
      const d = a.dispatch;
      const calling = d && d.status === "calling"
        ? t("feed.calling", "Calling {name}").replace("{name}", d.responder || "")
        : (d ? t("dispatch.status." + d.status, d.status) : "");
      li.append(el("span", "calling", calling));
      const level = a.level ? "↑ " + t("escalation." + a.level_name, a.level_name) : "";
      li.append(el("span", "level", level));
      li.append(el("span", "age", formatAge(now - Math.min(a.pressed_at, a.received_at))));
      return li;
    }));
    $("calm").hidden = rows.length > 0;
    stats.rows = rows.length;
  }

  function apply(alerts, now, initial) {
    offset = now - Date.now() / 1000;
    let fresh = false, service = false;
    for (const a of alerts) {
      if (!a.open) { open.delete(a.key); continue; }
      if (!open.has(a.key)) {
        fresh ||= waiting(a) && a.kind === "emergency";
        service ||= a.lane === "service" && !initial;
      }
      open.set(a.key, a);
    }
    if (fresh) alarm();
    else if (service) { stats.chimes += 1; sound.chime(); }
    render();
  }

  const source = new EventSource("/console/feed");
  const live = (state) => {
    $("live").dataset.state = state;
    $("live").textContent = t("feed." + state, state);
  };
  source.addEventListener("open", () => live("live"));
  source.addEventListener("error", () => {
    live("reconnecting");
    if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 5000);
  });
  source.addEventListener("snapshot", (event) => {
    const body = JSON.parse(event.data);
    open.clear();
    apply(body.alerts, body.now, !seenSnapshot);
    seenSnapshot = true;
  });
  source.addEventListener("alerts", (event) => {
    const body = JSON.parse(event.data);
    apply(body.alerts, body.now, false);
  });
  source.addEventListener("logout", () => location.assign("/console/login?next=/console/kiosk"));

  function cell(row, value, cls) {
    const td = el("td", value && cls ? cls : "", String(value));
    row.append(td);
  }
  async function summary() {
    try {
      const response = await fetch("/console/kiosk/summary", { credentials: "same-origin" });
      if (response.redirected || response.status === 401) { location.reload(); return; }
      if (!response.ok) return;
      const body = await response.json();
      const rows = body.rows.map((r) => {
        const tr = el("tr");
        tr.dataset.area = r.area.join("/");
        tr.append(el("th", "", r.name));
        cell(tr, r.emergencies_waiting, "bad");
        cell(tr, r.escalated, "warn");
        cell(tr, r.open_alarms, "");
        cell(tr, r.services_waiting, "");
        cell(tr, r.terminals_offline, "warn");
        return tr;
      });
      $("towns").tBodies[0].replaceChildren(...rows);
      const total = body.total;
      $("k-emergencies").textContent = total.emergencies_waiting;
      $("k-escalated").textContent = total.escalated;
      $("k-open").textContent = total.open_alarms;
      $("k-services").textContent = total.services_waiting;
      $("k-offline").textContent = total.terminals_offline;
      stats.summaries += 1;
    } catch (error) { /* the next refresh tries again */ }
  }

  function tick() {
    const now = new Date(Date.now() + offset * 1000);
    $("clock").textContent = `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
    render();
    const stillWaiting = [...open.values()].some((a) => waiting(a) && a.kind === "emergency");
    if (stillWaiting && Date.now() - lastAlarm > REMIND_S * 1000) alarm();
  }
  summary();
  setInterval(summary, refreshS * 1000);
  setInterval(tick, 1000);
  tick();
})();
