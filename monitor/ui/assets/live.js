// The live pages' one painter. A bed page follows /stream/<bed>, the central station
// /stream/all (server-sent events, monitor/ui/stream.py). Each message is applied here: the
// numbers, banner, cards and alarm bar as text, trend points by extendData, wave chunks into
// the sweeping strips. Ages are counted on this browser's clock from when each value was
// measured, so tiles turn to NO DATA when the feed, the server or the network dies. While
// the stream is down, the page's Interval calls monitorLive.poll() for the same messages.
// window.monitorStream is the page hook for the tests and benches.
(function () {
  const SPARK_S = 15 * 60;
  const SPARK_EVERY_MS = 5000;
  const TREND_EVERY_MS = 1000;
  const RETRY_REFUSED_MS = 30000;
  const COLORS = { HR: "#39ff6a", SPO2: "#2ee6ff", PLETH: "#2ee6ff", ECG1: "#39ff6a" };
  const state = {
    source: null,
    url: null,
    kind: null,
    open: false,
    messages: 0,
    frames: 0,
    polls: 0,
    last: null,
    refusedAt: 0,
    painted: {}, // per bed: how many states were painted (the bench counts them)
  };
  window.monitorStream = state;
  let beds = {};
  let barSignature = null;

  function target() {
    const push = new URLSearchParams(window.location.search).get("push") !== "0";
    const bedLive = document.getElementById("bed-live");
    if (bedLive) {
      const bed = bedLive.dataset.bed;
      const query = "?seq=" + bedLive.dataset.seq + "&epoch=" + bedLive.dataset.epoch;
      const base = "/stream/" + bed;
      return { kind: "bed", key: "bed:" + bed, base: base, query: query, push: push, tick: "bed-tick" };
    }
    if (document.getElementById("ward-live")) {
      return { kind: "ward", key: "ward", base: "/stream/all", query: "", push: push, tick: "ov-tick" };
    }
    return null;
  }

  // -- finding what to paint -------------------------------------------------------------

  function bedOf(id) {
    if (!beds[id]) beds[id] = { id: id, state: null, received: 0, spark: {}, sparkAt: 0 };
    return beds[id];
  }

  function nodes(b) {
    if (b.nodes && b.nodes.ok.isConnected) return b.nodes;
    const tiles = {};
    let first = null;
    document.querySelectorAll('.tile[data-bed="' + b.id + '"]').forEach((el) => {
      first = first || el;
      tiles[el.dataset.tile] = {
        el: el,
        base: el.className.replace(/ (stale|alarm-\w+)/g, ""),
        value: el.querySelector(".tile-value"),
        sub: el.querySelector(".tile-sub"),
        age: el.querySelector(".tile-age"),
      };
    });
    const card = document.querySelector('.bed-card[data-bed="' + b.id + '"]');
    b.nodes = { ok: card || first || document.body, tiles: tiles, card: card };
    if (card) {
      b.nodes.alarm = card.querySelector(".bed-alarm");
      b.nodes.session = card.querySelector(".card-session");
      b.nodes.spark = card.querySelector(".card-spark");
      b.nodes.pleth = card.querySelector(".card-pleth");
    }
    return b.nodes;
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function setClass(el, cls) {
    if (el && el.className !== cls) el.className = cls;
  }

  // -- ages, on this browser's clock ------------------------------------------------------

  function formatAge(s) {
    if (s < 60) return Math.floor(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h";
  }

  function ageTiles(b) {
    if (!b.state) return;
    const serverNow = b.state.now + (Date.now() - b.received) / 1000;
    const found = nodes(b).tiles;
    for (const key in found) {
      const tile = b.state.tiles[key];
      const node = found[key];
      if (!tile) continue;
      let cls = node.base;
      if (tile.t === null) {
        cls += " stale";
        setText(node.age, "");
      } else {
        const age = Math.max(0, serverNow - tile.t);
        if (age > tile.lim) cls += " stale";
        setText(node.age, formatAge(age));
      }
      if (tile.alarm) cls += " alarm-" + tile.alarm;
      setClass(node.el, cls);
    }
  }

  // -- painting a bed's state -------------------------------------------------------------

  function paintTiles(b) {
    const found = nodes(b).tiles;
    for (const key in found) {
      const tile = b.state.tiles[key];
      if (!tile) continue;
      setText(found[key].value, tile.v);
      setClass(found[key].value, tile.long ? "tile-value long" : "tile-value");
      setText(found[key].sub, tile.sub);
      if (found[key].value && found[key].value.title !== tile.title) {
        found[key].value.title = tile.title;
      }
    }
  }

  // The infusion strip: [label, value, class] items, rebuilt only when one changed.
  function paintStrip(strip, items) {
    const key = JSON.stringify(items);
    if (!strip || !items || strip.dataset.painted === key) return;
    strip.replaceChildren(
      ...items.map(([label, value, cls]) => {
        const item = document.createElement("span");
        item.className = ("strip-item " + cls).trim();
        const k = document.createElement("span");
        k.className = "strip-key";
        k.textContent = label;
        const v = document.createElement("span");
        v.className = "strip-val";
        v.textContent = value;
        item.append(k, v);
        return item;
      }),
    );
    strip.dataset.painted = key;
  }

  function paintBedPage(b) {
    const st = b.state;
    const banner = document.getElementById("bed-banner");
    setText(banner, st.banner.text);
    setClass(banner, st.banner.cls);
    if (st.session) {
      setText(document.getElementById("bed-session"), st.session.header);
      setText(document.getElementById("s-due"), st.session.due);
      paintStrip(document.getElementById("bed-infusion"), st.session.strip);
      const info = document.getElementById("s-info");
      const text = st.session.lines.map((l) => l[0]).join("\n");
      if (info && info.dataset.painted !== text) {
        info.replaceChildren(
          ...st.session.lines.map(([line, cls]) => {
            const div = document.createElement("div");
            div.textContent = line;
            if (cls) div.className = cls;
            return div;
          }),
        );
        info.dataset.painted = text;
      }
    }
    const changes = JSON.stringify(st.changes);
    if (b.changes !== undefined && b.changes !== changes) {
      const set = window.dash_clientside && window.dash_clientside.set_props;
      if (set) set("bed-changes", { data: st.changes });
    }
    b.changes = changes;
    if (window.monitorAudio) {
      if (!b.audio || b.audio.sounding !== st.sounding || b.audio.pause !== st.pause) {
        b.audio = { sounding: st.sounding, pause: st.pause };
      }
    }
    for (const key in window.monitorSweeps || {}) {
      if (key.startsWith("bed:")) window.monitorSweeps[key].setInvalid(!st.wave_ok);
    }
  }

  function paintCard(b) {
    const n = nodes(b);
    if (!n.card) return;
    const card = b.state.card;
    setClass(n.card, card.cls);
    setText(n.alarm, card.alarm);
    setClass(n.alarm, card.alarm_cls);
    setText(n.session, card.session);
    const sweep = n.pleth && window.monitorSweeps[b.id + ":PLETH"];
    if (sweep) sweep.setInvalid(!b.state.wave_ok);
  }

  function paintAlarmBar() {
    const bar = document.getElementById("ov-alarm-bar");
    if (!bar) return;
    const rows = [];
    document.querySelectorAll(".bed-card[data-bed]").forEach((card) => {
      const b = beds[card.dataset.bed];
      const name = card.querySelector(".card-title");
      if (!b || !b.state) return;
      for (const a of b.state.alarms) rows.push([name ? name.textContent : b.id, a]);
    });
    rows.sort((p, q) => q[1].rank - p[1].rank || p[1].onset - q[1].onset);
    const signature = JSON.stringify(rows.map((r) => [r[0], r[1].text, r[1].p]));
    if (signature === barSignature) return;
    barSignature = signature;
    if (!rows.length) {
      const none = document.createElement("span");
      none.className = "ward-alarm-none";
      none.textContent = "No active alarm on the ward";
      bar.replaceChildren(none);
      return;
    }
    bar.replaceChildren(
      ...rows.map(([bed, a]) => {
        const span = document.createElement("span");
        span.className = "ward-alarm ward-alarm-" + a.p + (a.tech ? " ward-alarm-tech" : "");
        span.textContent = bed + " · " + a.text;
        return span;
      }),
    );
  }

  function sound() {
    if (!window.monitorAudio) return;
    if (state.kind === "bed") {
      const b = Object.values(beds)[0];
      const left = b && b.audio ? window.monitorAudio.follow(b.audio) : "";
      setText(document.getElementById("bed-pause-left"), left);
      return;
    }
    const order = { LOW: 1, MEDIUM: 2, HIGH: 3 };
    let loudest = null;
    for (const b of Object.values(beds)) {
      const s = b.state && b.state.sounding;
      if (s && (!loudest || order[s] > order[loudest])) loudest = s;
    }
    if (!state.wardAudio || state.wardAudio.sounding !== loudest) {
      state.wardAudio = { sounding: loudest, pause: 0 };
    }
    window.monitorAudio.follow(state.wardAudio);
  }

  function applyState(id, st) {
    const b = bedOf(id);
    b.state = st;
    b.received = Date.now();
    paintTiles(b);
    if (state.kind === "bed") paintBedPage(b);
    else paintCard(b);
    ageTiles(b);
    state.painted[id] = (state.painted[id] || 0) + 1;
  }

  // -- charts -------------------------------------------------------------------------------

  // Trend points are gathered and drawn at most once a second: a Plotly redraw of the whole
  // trend costs far more than the numbers, and a fast training clock sends many a second.
  let pendingTrend = {};
  let trendTimer = null;
  let trendAt = 0;

  function extendTrend(id, trend) {
    const [update, indices, max] = trend;
    indices.forEach((trace, i) => {
      const p = pendingTrend[trace] || (pendingTrend[trace] = { x: [], y: [], max: 0 });
      p.x.push(...update.x[i]);
      p.y.push(...update.y[i]);
      p.max = max.x ? max.x[i] : max;
    });
    if (trendTimer) return;
    const wait = Math.max(0, TREND_EVERY_MS - (Date.now() - trendAt));
    trendTimer = setTimeout(() => {
      trendTimer = null;
      trendAt = Date.now();
      const traces = Object.keys(pendingTrend).map(Number);
      const merged = [
        { x: traces.map((t) => pendingTrend[t].x), y: traces.map((t) => pendingTrend[t].y) },
        traces,
        {
          x: traces.map((t) => pendingTrend[t].max),
          y: traces.map((t) => pendingTrend[t].max),
        },
      ];
      pendingTrend = {};
      const fresh = window.monitorOnlyNew("trend:" + id, merged);
      const set = window.dash_clientside && window.dash_clientside.set_props;
      // not before the trend has its figure: extending nothing is an error in Dash
      const plot = document.querySelector("#bed-trend .js-plotly-plot");
      if (fresh && set && plot && plot.data && plot.data.length) {
        set("bed-trend", { extendData: fresh });
      }
    }, wait);
  }

  function bedWaves(chunks) {
    for (const chunk of chunks) {
      const strip = document.getElementById("bed-strip-" + chunk.s);
      if (!strip) continue;
      if (strip.hidden) strip.hidden = false;
      const canvas = strip.querySelector("canvas");
      window
        .monitorSweep("bed:" + chunk.s, canvas, { mmPerS: 25, color: COLORS[chunk.s] })
        .push(chunk);
    }
  }

  function cardWaves(b, chunks) {
    const canvas = nodes(b).pleth;
    if (!canvas) return;
    const sweep = window.monitorSweep(b.id + ":PLETH", canvas, {
      mmPerS: 12.5,
      color: COLORS.PLETH,
    });
    for (const chunk of chunks) sweep.push(chunk);
  }

  function addSpark(b, points, replace) {
    for (const signal in points) {
      b.spark[signal] = replace ? points[signal] : (b.spark[signal] || []).concat(points[signal]);
    }
    b.sparkDirty = true;
  }

  function drawSpark(b) {
    const canvas = nodes(b).spark;
    if (!canvas || !b.state) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr);
    const h = Math.round(canvas.clientHeight * dpr);
    if (!w || !h) return;
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    const now = b.state.now + (Date.now() - b.received) / 1000;
    const spans = { HR: [40, 140], SPO2: [85, 100] };
    for (const signal in spans) {
      const pts = (b.spark[signal] || []).filter((p) => p[0] >= now - SPARK_S);
      b.spark[signal] = pts;
      const [lo, hi] = spans[signal];
      ctx.strokeStyle = COLORS[signal];
      ctx.lineWidth = 1.2 * dpr;
      ctx.beginPath();
      let prevT = null;
      for (const [t, v] of pts) {
        const x = w - ((now - t) / SPARK_S) * w;
        const y = h - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - 2) - 1;
        if (prevT === null || t - prevT > 30) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        prevT = t;
      }
      ctx.stroke();
    }
    b.sparkDirty = false;
    b.sparkAt = Date.now();
  }

  // -- messages -----------------------------------------------------------------------------

  function apply(message) {
    state.frames += 1;
    if (message.beds) {
      for (const id in message.beds) {
        const part = message.beds[id];
        const b = bedOf(id);
        if (part.state) applyState(id, part.state);
        if (part.spark) addSpark(b, part.spark, message.history === true || !!part.history);
        if (part.waves) cardWaves(b, part.waves);
      }
      paintAlarmBar();
    } else if (message.bed) {
      if (message.state) applyState(message.bed, message.state);
      if (message.trend) extendTrend(message.bed, message.trend);
      if (message.waves) bedWaves(message.waves);
    }
    sound();
  }

  function heard() {
    state.messages += 1;
    if (window.monitorConnection) window.monitorConnection.heard();
  }

  // The fallback Interval stops while the stream is open: each tick runs Dash's callback
  // machinery over the whole page, which on a 30-chair central page costs more than painting.
  function polling(want, on) {
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (set && want && want.tick) set(want.tick, { disabled: !on });
  }

  function close() {
    if (state.source) state.source.close();
    state.source = null;
    state.open = false;
  }

  function follow() {
    const want = target();
    const key = want ? want.key : null;
    if (key !== state.url) {
      close();
      beds = {};
      barSignature = null;
      pendingTrend = {};
      window.monitorSweeps = {};
      state.url = key;
      state.kind = want ? want.kind : null;
      state.want = want;
      state.last = null;
    }
    if (!want || !want.push || state.source) return;
    if (Date.now() - state.refusedAt < RETRY_REFUSED_MS) return;
    const source = new EventSource(want.base + want.query);
    state.source = source;
    const onMessage = (event) => {
      heard();
      if (event.lastEventId) state.last = Number(event.lastEventId);
      apply(JSON.parse(event.data));
    };
    source.addEventListener("hello", (event) => {
      state.open = true;
      polling(want, false);
      onMessage(event);
    });
    source.addEventListener("frame", onMessage);
    source.addEventListener("beat", heard);
    source.onerror = () => {
      state.open = false;
      polling(want, true);
      if (source.readyState === EventSource.CLOSED) {
        // refused (no stream free) or gone: poll, and try a stream again later
        state.source = null;
        state.refusedAt = Date.now();
      }
    };
  }

  let inFlight = false;
  window.monitorLive = {
    poll: function () {
      const unchanged = window.dash_clientside.no_update;
      const want = state.want;
      if (!want || state.open || inFlight) return unchanged;
      inFlight = true;
      state.polls += 1;
      const after = state.last === null ? "" : String(state.last);
      fetch(want.base + "/poll?after=" + after, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : null))
        .then((body) => {
          if (!body || state.open || state.want !== want) return;
          if (body.hello) apply(body.hello);
          body.messages.forEach(apply);
          state.last = body.last;
        })
        .catch(() => {})
        .finally(() => {
          inFlight = false;
        });
      return unchanged;
    },
  };

  function everyHalfSecond() {
    follow();
    for (const b of Object.values(beds)) {
      ageTiles(b);
      if (b.sparkDirty && Date.now() - b.sparkAt > SPARK_EVERY_MS) drawSpark(b);
    }
    sound();
  }
  setInterval(everyHalfSecond, 500);
  setTimeout(follow, 0);
})();

// Two answers may carry the same points (a reconnect, a poll crossing the stream), so a graph
// could be sent a point twice and draw a line back in time. Keep, per graph and trace, the
// last x drawn and pass on only newer points.
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
    const sized =
      typeof max === "object" && max !== null && max.x
        ? {
            x: keep.map((t) => max.x[traces.indexOf(t)]),
            y: keep.map((t) => max.y[traces.indexOf(t)]),
          }
        : max;
    return [{ x: xs, y: ys }, keep, sized];
  };
})();
