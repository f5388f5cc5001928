// A sweeping wave strip, as bedside monitors draw one: the trace is written left to right at
// a fixed paper speed (25 mm/s on the bed page), wraps at the right edge and erases a short
// band ahead of itself. A chunk that does not join the last one is drawn after a blank gap;
// a missing sample breaks the line; the trace turns grey while the signal is invalid.
// window.monitorSweeps holds every strip's counters (the page hook for the tests).
(function () {
  const PX_PER_MM = 96 / 25.4; // CSS pixels
  const ERASE_PX = 10;
  const GREY = "#6b7478";
  const SIZE_EVERY_MS = 2000;
  window.monitorSweeps = window.monitorSweeps || {};
  // Reading a canvas's size forces the page's layout: do it on a resize and every 2 s, not
  // on every chunk (thirty strips a few times a second would lay the page out each time).
  let resized = 0;
  window.addEventListener("resize", () => (resized = Date.now()));

  window.monitorSweep = function (key, canvas, opts) {
    const known = window.monitorSweeps[key];
    if (known && known.canvas === canvas) return known;
    const mmPerS = opts.mmPerS || 25;
    const sweep = {
      canvas: canvas,
      color: opts.color || "#2ee6ff",
      invalid: false,
      x: 0,
      prevY: null,
      end: null, // time just after the last sample drawn
      ranges: [],
      samples: 0,
      chunks: 0,
      gaps: 0,
      wraps: 0,
      greyChunks: 0,
      width: 0,
      height: 0,
      sizedAt: 0,
    };
    window.monitorSweeps[key] = sweep;

    function fit() {
      const dpr = window.devicePixelRatio || 1;
      const now = Date.now();
      if (sweep.width && now - sweep.sizedAt < SIZE_EVERY_MS && resized < sweep.sizedAt) {
        return dpr;
      }
      sweep.sizedAt = now;
      const w = Math.round(canvas.clientWidth * dpr);
      const h = Math.round(canvas.clientHeight * dpr);
      if (w !== sweep.width || h !== sweep.height) {
        canvas.width = sweep.width = w;
        canvas.height = sweep.height = h;
        sweep.x = 0;
        sweep.prevY = null;
      }
      return dpr;
    }

    function scale(ys) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const y of ys) {
        if (y === null) continue;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
      if (lo <= hi) sweep.ranges.push([lo, hi]);
      if (sweep.ranges.length > 24) sweep.ranges.shift();
      lo = Math.min(...sweep.ranges.map((r) => r[0]));
      hi = Math.max(...sweep.ranges.map((r) => r[1]));
      if (!isFinite(lo) || hi - lo < 1e-9) return null;
      const pad = (hi - lo) * 0.1;
      return [lo - pad, hi + pad];
    }

    function erase(ctx, from, px) {
      const w = sweep.width;
      const a = Math.min(px, w - from);
      ctx.clearRect(from, 0, a, sweep.height);
      if (px > a) ctx.clearRect(0, 0, px - a, sweep.height);
    }

    sweep.setInvalid = function (flag) {
      sweep.invalid = !!flag;
    };

    sweep.push = function (chunk) {
      const dpr = fit();
      if (!sweep.width || !sweep.height) return;
      const ctx = canvas.getContext("2d");
      const pxPerS = mmPerS * PX_PER_MM * dpr;
      const dx = pxPerS / chunk.hz;
      const n = chunk.y.length;
      if (chunk.gap && sweep.end !== null) {
        // leave the missing time blank, at the same paper speed (a full sweep at most)
        const blank = Math.min(sweep.width, Math.max(0, (chunk.t0 - sweep.end) * pxPerS));
        erase(ctx, sweep.x, blank + ERASE_PX * dpr);
        sweep.x = (sweep.x + blank) % sweep.width;
        sweep.prevY = null;
        sweep.gaps += 1;
      } else if (chunk.gap) {
        sweep.prevY = null;
      }
      erase(ctx, sweep.x, n * dx + ERASE_PX * dpr);
      const range = scale(chunk.y);
      const h = sweep.height;
      ctx.lineWidth = 1.5 * dpr;
      ctx.lineJoin = "round";
      ctx.strokeStyle = sweep.invalid ? GREY : sweep.color;
      if (sweep.invalid) sweep.greyChunks += 1;
      ctx.beginPath();
      let x = sweep.x;
      let prev = sweep.prevY;
      for (let i = 0; i < n; i++) {
        const v = chunk.y[i];
        let nx = x + dx;
        if (nx >= sweep.width) {
          nx -= sweep.width;
          prev = null; // the line does not cross the screen back to the left
          sweep.wraps += 1;
        }
        if (v === null || range === null) {
          prev = null;
        } else {
          const y = h - 2 * dpr - ((v - range[0]) / (range[1] - range[0])) * (h - 4 * dpr);
          if (prev !== null) {
            ctx.moveTo(x, prev);
            ctx.lineTo(nx, y);
          }
          prev = y;
        }
        x = nx;
      }
      ctx.stroke();
      sweep.x = x;
      sweep.prevY = prev;
      sweep.end = chunk.t0 + n / chunk.hz;
      sweep.samples += n;
      sweep.chunks += 1;
    };
    return sweep;
  };
})();
