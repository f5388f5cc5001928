// Server push for the live pages. One EventSource per page (/stream/<bed> or /stream/all)
// wakes the page's own cursor-based tick as soon as its beds have news, so an alarm reaches
// the screen in one round trip instead of up to one polling period. The stream's heartbeat
// feeds the connection watchdog. While the stream is open the 1-s poll slows to a 5-s
// fallback; if the stream fails, polling resumes at once. `?push=0` turns push off (the
// latency bench compares both). window.monitorStream is the page hook for the tests.
(function () {
  const FALLBACK_MS = 5000;
  const POLL_MS = 1000;
  const WARD_SPACING_MS = 1000; // the ward redraws every tile: at most once a second
  const state = { source: null, path: null, open: false, messages: 0, ticks: 0 };
  window.monitorStream = state;

  function target() {
    if (new URLSearchParams(window.location.search).get("push") === "0") return null;
    const path = window.location.pathname;
    const bed = path.match(/^\/bed\/([^/]+)$/);
    // (an Interval renders no element: look for one each page always draws)
    if (bed && document.getElementById("bed-banner")) return ["/stream/" + bed[1], "bed-tick"];
    if (path === "/" && document.getElementById("ov-sound-state")) {
      return ["/stream/all", "ov-tick"];
    }
    return null;
  }

  let lastTick = 0;
  let pending = null;
  function tick(interval) {
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    const now = Date.now();
    const spacing = interval === "ov-tick" ? WARD_SPACING_MS : 0;
    if (now - lastTick < spacing) {
      if (!pending) pending = setTimeout(() => ((pending = null), tick(interval)), spacing);
      return;
    }
    lastTick = now;
    state.ticks += 1;
    set(interval, { n_intervals: now });
  }

  function setPolling(interval, ms) {
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (set) set(interval, { interval: ms });
  }

  function close() {
    if (state.source) state.source.close();
    state.source = null;
    state.path = null;
    state.open = false;
  }

  function follow() {
    const want = target();
    const path = want ? want[0] : null;
    if (path === state.path) return;
    close();
    if (!want) return;
    const [url, interval] = want;
    const source = new EventSource(url);
    state.source = source;
    state.path = url;
    const heard = () => {
      state.messages += 1;
      if (window.monitorConnection) window.monitorConnection.heard();
      tick(interval);
    };
    source.addEventListener("hello", () => {
      state.open = true;
      setPolling(interval, FALLBACK_MS);
      heard();
    });
    source.addEventListener("news", heard);
    source.addEventListener("beat", heard);
    source.onerror = () => {
      state.open = false;
      setPolling(interval, POLL_MS); // the browser retries the stream by itself
    };
  }
  setInterval(follow, 300);
})();

// Two ticks may answer from the same cursor (a push and the fallback poll crossing), so a
// graph could be sent the same points twice and draw a line back in time. Keep, per graph
// and trace, the last x drawn and pass on only newer points.
(function () {
  const last = {};
  window.monitorOnlyNew = function (key, extend) {
    if (!extend) return null;
    const [update, traces, max] = extend;
    const xs = [];
    const ys = [];
    const keep = [];
    traces.forEach((trace, i) => {
      const id = key + ":" + trace;
      const from = last[id] === undefined ? -Infinity : last[id];
      const x = [];
      const y = [];
      update.x[i].forEach((xi, j) => {
        if (xi > from) {
          x.push(xi);
          y.push(update.y[i][j]);
        }
      });
      if (x.length) {
        last[id] = x[x.length - 1];
        xs.push(x);
        ys.push(y);
        keep.push(trace);
      }
    });
    if (!keep.length) return null;
    const sized = typeof max === "object" && max !== null && max.x
      ? { x: keep.map((t) => max.x[traces.indexOf(t)]), y: keep.map((t) => max.y[traces.indexOf(t)]) }
      : max;
    return [{ x: xs, y: ys }, keep, sized];
  };
  window.monitorForgetDrawn = function (key) {
    for (const id of Object.keys(last)) if (id.startsWith(key + ":")) delete last[id];
  };
})();
