// Data age is computed in the browser: the server reports each value's age when it answered,
// and the page adds the time since that answer arrived. A dead feed or a dead server both
// turn tiles to NO DATA without any further response (dash.md §1.1, hidden-tab throttling).
(function () {
  const received = new WeakMap();

  function formatAge(s) {
    if (s < 60) return Math.floor(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h";
  }

  window.monitorFreshness = function (fresh, ids, kind) {
    const now = Date.now();
    if (!fresh || !ids) return [[], []];
    if (!received.has(fresh)) received.set(fresh, now);
    const since = (now - received.get(fresh)) / 1000;
    const classes = [];
    const ages = [];
    for (const id of ids) {
      const key = kind === "ov" ? id.bed + "|" + id.tile : id.tile;
      const base = fresh.age[key];
      const alarm = fresh.alarm[key];
      let cls = "tile tile-" + fresh.size + " tile-key-" + id.tile;
      if (base === null || base === undefined) {
        cls += " stale";
        ages.push("");
      } else {
        const age = base + since;
        if (age > fresh.limit[key]) cls += " stale";
        ages.push(formatAge(age));
      }
      if (alarm) cls += " alarm-" + alarm;
      classes.push(cls);
    }
    return [classes, ages];
  };
})();
