// Alarm tones made in the browser with the Web Audio API, one pattern per priority, repeating
// while an alarm is unacknowledged (IEC 60601-1-8 style, clinical.md §1.2): HIGH a 10-pulse
// burst (two groups of 5), MEDIUM 3 pulses, LOW 2 pulses. The server decides what sounds;
// this only plays it. Browsers allow sound only after a click, hence the sound button.
// window.monitorAudio is also the page hook the browser tests read.
(function () {
  const PATTERNS = {
    // fundamental Hz, pulse s, gaps between pulses s, repeat every s
    HIGH: { f: 880, pulse: 0.15, gaps: [0.1, 0.1, 0.1, 0.1, 0.35, 0.1, 0.1, 0.1, 0.1], every: 5 },
    MEDIUM: { f: 660, pulse: 0.2, gaps: [0.15, 0.15], every: 8 },
    LOW: { f: 523, pulse: 0.25, gaps: [0.3], every: 16 },
  };
  const received = new WeakMap();
  const STORED = "monitor.sound"; // sound stays on across reloads, in this browser
  const audio = {
    technicalOn: false, // the connection is lost: a technical tone, whatever the server said
    wanted: null, // what the server last asked for
    enabled: false,
    context: null,
    playing: null, // the priority whose pattern repeats now
    pulses: 0, // pulses scheduled since the page loaded
    bursts: 0,
    timer: null,
  };
  window.monitorAudio = audio;

  function wave(ctx) {
    // fundamental plus four harmonics within 15 dB of each other
    const real = new Float32Array([0, 1, 0.7, 0.5, 0.4, 0.3]);
    return ctx.createPeriodicWave(real, new Float32Array(real.length));
  }

  function burst(priority) {
    const ctx = audio.context;
    const p = PATTERNS[priority];
    if (!ctx || !p) return;
    let t = ctx.currentTime + 0.02;
    const shape = wave(ctx);
    for (let i = 0; i <= p.gaps.length; i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.setPeriodicWave(shape);
      osc.frequency.value = p.f;
      gain.gain.setValueAtTime(0, t);
      gain.gain.linearRampToValueAtTime(0.25, t + 0.015);
      gain.gain.setValueAtTime(0.25, t + p.pulse - 0.02);
      gain.gain.linearRampToValueAtTime(0, t + p.pulse);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + p.pulse + 0.01);
      audio.pulses += 1;
      t += p.pulse + (p.gaps[i] || 0);
    }
    audio.bursts += 1;
  }

  function play(priority) {
    if (audio.playing === priority) return;
    if (audio.timer) clearInterval(audio.timer);
    audio.timer = null;
    audio.playing = priority;
    if (!priority || !audio.enabled) return;
    burst(priority);
    audio.timer = setInterval(() => burst(priority), PATTERNS[priority].every * 1000);
  }

  function current() {
    // a lost connection sounds as a MEDIUM technical alarm unless a louder one already plays
    if (audio.technicalOn && audio.wanted !== "HIGH") return "MEDIUM";
    return audio.wanted;
  }

  audio.enable = function () {
    if (!audio.context) {
      audio.context = new (window.AudioContext || window.webkitAudioContext)();
    }
    audio.context.resume();
    audio.enabled = true;
    try {
      window.localStorage.setItem(STORED, "on");
    } catch (e) {
      /* storage refused: sound is on for this page only */
    }
    audio.playing = null;
    play(current());
    return ["Sound on", "sound-button sound-on"];
  };

  audio.technical = function (on) {
    audio.technicalOn = on;
    const next = current();
    if (next !== audio.playing) {
      if (audio.enabled) play(next);
      else audio.playing = next;
    }
  };

  // Called every tick with the page's live store: follow the server's decision and return
  // the audio-pause countdown text.
  audio.follow = function (fresh) {
    if (!fresh) return "";
    if (!received.has(fresh)) received.set(fresh, Date.now());
    audio.wanted = fresh.sounding || null;
    const next = current();
    if (next !== audio.playing) {
      if (audio.enabled) play(next);
      else audio.playing = next;
    }
    const left = (fresh.pause || 0) - (Date.now() - received.get(fresh)) / 1000;
    if (left <= 0) return "";
    const m = Math.floor(left / 60);
    const s = Math.floor(left % 60);
    return "Audio paused " + m + ":" + String(s).padStart(2, "0");
  };
  // Sound that was on stays on after a reload. Browsers may keep the context suspended until
  // the first click; the button says which it is.
  function restore() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(STORED);
    } catch (e) {
      stored = null;
    }
    const button = document.getElementById("sound-enable");
    if (!button) return;
    if (stored === "on") {
      const [text, cls] = audio.enable();
      button.textContent = text;
      button.className = cls;
      if (audio.context && audio.context.state !== "running") {
        button.textContent = "Sound on: click to resume";
        document.addEventListener("click", () => audio.context.resume(), { once: true });
      }
    } else {
      button.textContent = "Sound OFF: enable";
      button.className = "sound-button sound-off";
    }
  }
  const waitForButton = setInterval(() => {
    if (document.getElementById("sound-enable")) {
      clearInterval(waitForButton);
      restore();
    }
  }, 100);
})();
