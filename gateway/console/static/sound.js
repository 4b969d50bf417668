// Sound cues made with WebAudio (no sound files): an urgent three-tone alarm for
// emergencies and a soft two-note chime for service requests, so they sound different.
//
// Browsers start an AudioContext "suspended" until the user interacts with the page
// (autoplay policy). A wall display launched with Chromium's
// --autoplay-policy=no-user-gesture-required gets a running context at once; anywhere
// else the page shows its "enable sound" button until someone clicks it.
"use strict";
(() => {
  let ctx = null;
  const listeners = [];
  const stats = { alarms: 0, chimes: 0 };

  function context() {
    ctx ||= new AudioContext();
    return ctx;
  }
  function changed() {
    for (const listener of listeners) listener(state());
  }
  function state() {
    try { return context().state; } catch (error) { return "unavailable"; }
  }
  function tones(plan, type, level) {
    const audio = context();
    const t0 = audio.currentTime;
    for (const [start, freq, length] of plan) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = type;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + start);
      gain.gain.exponentialRampToValueAtTime(level, t0 + start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + length);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + length + 0.03);
    }
  }
  function play(kind) {
    try {
      if (kind === "alarm") {
        stats.alarms += 1;
        tones([[0, 880, 0.22], [0.3, 880, 0.22], [0.6, 1320, 0.22]], "square", 0.25);
      } else {
        stats.chimes += 1;
        tones([[0, 660, 0.5], [0.35, 523, 0.7]], "sine", 0.12);
      }
    } catch (error) { /* no audio device: the counters and the button still work */ }
    changed();
  }
  window.consoleSound = {
    stats,
    state,
    alarm: () => play("alarm"),
    chime: () => play("chime"),
    unlock: () => context().resume().then(changed),
    onChange: (listener) => { listeners.push(listener); listener(state()); },
  };
  try { context().addEventListener("statechange", changed); } catch (error) { /* none */ }
})();
