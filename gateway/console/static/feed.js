// The live alarm feed: a keyed list of rows kept up to date from Server-Sent Events.
//
// The server sends a "snapshot" of the open alarms when the stream (re)connects, then
// "alerts" batches of changed alarms. Each alarm owns one <li>, found by its key; an
// update patches that row's text, a move re-inserts only the rows out of place, and
// a resolved alarm's row is removed. Ages tick once a second from the server's clock.
// Two lanes: alarms (emergencies first) and service requests (meal, errand …), which
// sound differently (see sound.js).
"use strict";
(() => {
  const TEXTS = JSON.parse(document.getElementById("texts").textContent);
  const t = (key, fallback) => TEXTS[key] ?? fallback ?? key;
  const $ = (id) => document.getElementById(id);
  const lists = { alarm: $("alarms"), service: $("services") };
  const template = $("alarm-row").content.firstElementChild;
  const rows = new Map(); // key -> {data, el, parts}
  const stats = (window.consoleFeed = {
    beeps: 0, chimes: 0, batches: 0, rows: 0, applyMs: 0, applyMsMax: 0, tickMs: 0,
    connected: false,
  });
  let offset = 0; // server clock minus browser clock, seconds
  let seenSnapshot = false;

  const unaccepted = (a) => a.stage === "received" || a.stage === "delivered";
  const setText = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };
  const pad = (n) => String(n).padStart(2, "0");
  const formatAge = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return `${h}h ${pad(m)}m`;
    return m ? `${m}m ${pad(sec)}s` : `${sec}s`;
  };
  const since = (a) => Math.min(a.pressed_at, a.received_at);

  function build() {
    const el = template.cloneNode(true);
    const part = (name) => el.querySelector("." + name);
    const parts = {
      link: el.querySelector("a"), kind: part("kind"), elder: part("elder"),
      terminal: part("terminal"), village: part("village"), town: part("town"), stage: part("stage"),
      responder: part("responder"), level: part("level"), age: part("age"),
    };
    return { data: null, el, parts };
  }

  const clockText = (ts) => {
    const d = new Date(ts * 1000);
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };

  // Who is being called or coming: the call sequence, or the service request's assignee.
  function responderText(a) {
    if (a.accepted_by && a.stage === "accepted") {
      let text = a.accepted_by;
      if (a.eta_s != null) {
        text += " · " + t("feed.eta", "ETA {minutes} min").replace("{minutes}", Math.round(a.eta_s / 60));
      }
      return text;
    }
    if (a.service) {
      const when = a.service.scheduled_for ? clockText(a.service.scheduled_for) : t("service.asap", "asap");
      return t("service.status." + a.service.status, a.service.status) + " · " + when;
    }
    const d = a.dispatch;
    if (!d) return "";
    if (d.status === "calling") {
      return t("feed.calling", "Calling {name}").replace("{name}", d.responder || "") + ` (#${d.attempt})`;
    }
    return t("dispatch.status." + d.status, d.status);
  }

  function patch(row, a) {
    const p = row.parts, old = row.data;
    row.data = a;
    row.el.dataset.key = a.key;
    row.el.dataset.kind = a.kind;
    row.el.dataset.stage = a.stage;
    row.el.dataset.lane = a.lane;
    row.el.dataset.dispatch = a.dispatch ? a.dispatch.status : "";
    row.el.classList.toggle("unaccepted", unaccepted(a));
    if (!old) {
      p.link.href = `/console/alerts/${encodeURIComponent(a.terminal_id)}/${encodeURIComponent(a.alert_id)}`;
    }
    setText(p.kind, t("kind." + a.kind, a.kind));
    setText(p.elder, a.elder || a.terminal_id);
    setText(p.terminal, a.terminal_id);
    setText(p.village, a.region[2] || "");
    setText(p.town, a.region[1] || "");
    setText(p.stage, t("stage." + a.stage, a.stage));
    setText(p.responder, responderText(a));
    const level = a.level ? "↑ " + t("escalation." + a.level_name, a.level_name || String(a.level)) : "";
    setText(p.level, level);
    row.el.classList.toggle("escalated", a.level > 0 && unaccepted(a));
    if (old && a.level > old.level) flash(row.el);
    setText(p.age, formatAge(Date.now() / 1000 + offset - since(a)));
  }

  function flash(el) {
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  // Emergencies first (kind priority), newest first within a kind.
  const order = (x, y) =>
    x.data.priority - y.data.priority ||
    y.data.received_at - x.data.received_at ||
    (x.data.key < y.data.key ? -1 : 1);

  function reorder() {
    for (const [lane, list] of Object.entries(lists)) {
      const sorted = [...rows.values()].filter((r) => r.data.lane === lane).sort(order);
      let cursor = list.firstElementChild;
      for (const row of sorted) {
        if (row.el === cursor) cursor = cursor.nextElementSibling;
        else list.insertBefore(row.el, cursor);
      }
    }
  }

  function apply(alerts, now) {
    const started = performance.now();
    offset = now - Date.now() / 1000;
    let moved = false;
    const sounds = { alarm: false, chime: false };
    for (const a of alerts) {
      const row = rows.get(a.key);
      if (!a.open) {
        if (row) {
          row.el.remove();
          rows.delete(a.key);
        }
        continue;
      }
      if (!row) {
        const created = build();
        patch(created, a);
        rows.set(a.key, created);
        moved = true;
        sounds.alarm ||= a.kind === "emergency" && unaccepted(a);
        sounds.chime ||= a.lane === "service" && unaccepted(a);
      } else {
        moved ||= row.data.priority !== a.priority || row.data.received_at !== a.received_at;
        patch(row, a);
      }
    }
    if (moved) reorder();
    count();
    stats.batches += 1;
    stats.rows = rows.size;
    stats.applyMs = performance.now() - started;
    stats.applyMsMax = Math.max(stats.applyMsMax, stats.applyMs);
    return sounds;
  }

  function count() {
    let emergencies = 0, escalated = 0, open = 0, services = 0, alarms = 0;
    for (const { data: a } of rows.values()) {
      if (a.lane === "service") {
        services += unaccepted(a) ? 1 : 0;
        continue;
      }
      alarms += 1;
      if (!unaccepted(a)) continue;
      open += 1;
      if (a.kind === "emergency") emergencies += 1;
      if (a.level > 0) escalated += 1;
    }
    setText($("count-emergency"), String(emergencies));
    setText($("count-escalated"), String(escalated));
    setText($("count-unaccepted"), String(open));
    setText($("count-open"), String(alarms));
    setText($("count-services"), String(services));
    $("empty").hidden = alarms > 0;
    $("services-empty").hidden = rows.size - alarms > 0;
    document.title = (emergencies ? `(${emergencies}) ` : "") + document.title.replace(/^\(\d+\) /, "");
  }

  function tick() {
    const started = performance.now();
    const now = Date.now() / 1000 + offset;
    for (const row of rows.values()) setText(row.parts.age, formatAge(now - since(row.data)));
    stats.tickMs = performance.now() - started;
  }

  // Sound cues (sound.js): the alarm for a new emergency, a chime for a service request.
  const sound = window.consoleSound;
  const soundButton = $("sound");
  sound.onChange((state) => { soundButton.hidden = state === "running"; });
  soundButton.addEventListener("click", () => sound.unlock());
  function cue(sounds) {
    if (sounds.alarm) {
      stats.beeps += 1;
      sound.alarm();
    } else if (sounds.chime) {
      stats.chimes += 1;
      sound.chime();
    }
  }

  function live(state) {
    const el = $("live");
    el.dataset.state = state;
    setText(el, t("feed." + state, state));
    stats.connected = state === "live";
  }

  const source = new EventSource("/console/feed");
  source.addEventListener("open", () => live("live"));
  source.addEventListener("error", () => {
    live("reconnecting");
    // Closed for good (e.g. 401 after logout): reload, which leads to the login page.
    if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 3000);
  });
  source.addEventListener("snapshot", (event) => {
    const body = JSON.parse(event.data);
    const keep = new Set(body.alerts.map((a) => a.key));
    for (const [key, row] of rows) {
      if (!keep.has(key)) {
        row.el.remove();
        rows.delete(key);
      }
    }
    const fresh = apply(body.alerts, body.now);
    $("truncated").hidden = !body.truncated;
    if (seenSnapshot) {
      cue(fresh);
    } else {
      const waiting = body.alerts.some((a) => a.kind === "emergency" && unaccepted(a));
      cue({ alarm: waiting, chime: false });
    }
    seenSnapshot = true;
  });
  source.addEventListener("alerts", (event) => {
    const body = JSON.parse(event.data);
    cue(apply(body.alerts, body.now));
  });
  source.addEventListener("logout", () => {
    source.close();
    location.assign("/console/login");
  });
  setInterval(tick, 1000);
})();
