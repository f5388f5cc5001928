// The connection watchdog runs on the browser's own clock. A hung server or a silently
// dropped network leaves a poll pending for ever, and Dash then fires no callback that
// depends on it, so nothing that waits for an answer can notice (dash.md §1.5 d). Here a
// timer checks when the server last answered; after 3 s of silence every tile shows NO DATA,
// a full-width bar says so, and a technical tone sounds if sound is on. It all clears by
// itself when answers come back. window.monitorConnection is the page hook for the tests.
(function () {
  const LOST_AFTER_MS = 3000;
  const CHECK_EVERY_MS = 250;
  const conn = { lastAnswer: Date.now(), lost: false, lostAt: null, losses: 0 };
  window.monitorConnection = conn;

  const realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const answer = realFetch(input, init);
    answer.then(
      (r) => {
        if (r.ok) conn.lastAnswer = Date.now();
      },
      () => {},
    );
    return answer;
  };
  // a live stream's heartbeat counts as an answer too
  conn.heard = function () {
    conn.lastAnswer = Date.now();
  };

  function bar() {
    let el = document.getElementById("connection-lost");
    if (!el) {
      el = document.createElement("div");
      el.id = "connection-lost";
      el.className = "connection-lost-bar";
      el.setAttribute("role", "alert");
      el.textContent = "CONNECTION LOST — the bedside monitor is the primary alarm";
      document.body.prepend(el);
    }
    return el;
  }

  function livePage() {
    return document.querySelector(".tile") !== null;
  }

  function check() {
    const silent = Date.now() - conn.lastAnswer;
    const lost = livePage() && silent > LOST_AFTER_MS;
    if (lost && !conn.lost) {
      conn.lost = true;
      conn.lostAt = Date.now();
      conn.losses += 1;
      document.body.classList.add("connection-lost");
      bar().hidden = false;
      if (window.monitorAudio) window.monitorAudio.technical(true);
    } else if (!lost && conn.lost) {
      conn.lost = false;
      document.body.classList.remove("connection-lost");
      bar().hidden = true;
      if (window.monitorAudio) window.monitorAudio.technical(false);
    }
  }
  setInterval(check, CHECK_EVERY_MS);

  // The header clock: the time now on this screen, for charting and handover.
  function clock() {
    const el = document.getElementById("header-clock");
    if (el) el.textContent = new Date().toLocaleTimeString([], { hour12: false });
  }
  setInterval(clock, 1000);
})();
