// Short sounds for moves and results, made with the Web Audio API: no media
// files, so the page's CSP needs no media-src. The mute switch is remembered.
//
// Browsers start an AudioContext only after a user gesture; the first sound
// before any gesture is simply skipped.

const KEY = "connectfour:sound";

let context = null;

function enabled() {
  try {
    return window.localStorage.getItem(KEY) !== "off";
  } catch {
    return true;
  }
}

function remember(on) {
  try {
    window.localStorage.setItem(KEY, on ? "on" : "off");
  } catch {
    // Not remembered: the switch still works on this page.
  }
}

/** Notes as [frequency Hz, start s, length s, loudness (0.18 unless given)]. */
const TUNES = {
  move: [[520, 0, 0.07]],
  win: [[523, 0, 0.14], [659, 0.12, 0.14], [784, 0.24, 0.28]],
  lose: [[392, 0, 0.18], [311, 0.16, 0.3]],
  draw: [[440, 0, 0.16], [440, 0.18, 0.16]],
  offer: [[587, 0, 0.1, 0.1], [740, 0.11, 0.14, 0.1]], // the opponent offers a draw, or asks for a takeback
  tick: [[1320, 0, 0.03, 0.05]], // each second of the last ten on one's own clock: soft
};

/** Play `name` (move, win, lose, draw, offer, tick) unless muted. */
export function play(name) {
  if (!enabled()) return;
  document.body.dataset.sound = name; // what was last played, for people debugging (and tests)
  try {
    // Made on the first gesture only: before one, Chromium warns on the console.
    if (context?.state !== "running") return;
    const now = context.currentTime;
    for (const [frequency, start, length, loudness = 0.18] of TUNES[name] ?? []) {
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.type = "triangle";
      tone.frequency.value = frequency;
      // A quick attack and decay: a click, not a beep.
      gain.gain.setValueAtTime(0.0001, now + start);
      gain.gain.exponentialRampToValueAtTime(loudness, now + start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + start + length);
      tone.connect(gain).connect(context.destination);
      tone.start(now + start);
      tone.stop(now + start + length + 0.02);
    }
  } catch {
    // No Web Audio: silence.
  }
}

/** Wire the mute `button` (aria-pressed: sound on) to the remembered setting. */
export function bindSwitch(button) {
  const show = () => button.setAttribute("aria-pressed", String(enabled()));
  button.addEventListener("click", () => {
    remember(!enabled());
    show();
    // The click is a gesture: let the context start now.
    if (enabled()) context?.resume?.().catch(() => {});
  });
  // Any first gesture unlocks audio for later sounds.
  const unlock = () => {
    try {
      context ??= new AudioContext();
      context.resume().catch(() => {});
    } catch {
      // No Web Audio.
    }
  };
  document.addEventListener("pointerdown", unlock, { once: true, capture: true });
  document.addEventListener("keydown", unlock, { once: true, capture: true });
  show();
}
