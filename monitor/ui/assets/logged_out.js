// A login the station has ended (logged out elsewhere, idle, password reset, disabled) answers
// every request 401 with where to go: the page follows, so no screen goes on looking logged
// in with a name in its header and NO DATA in its tiles. The login page says why. The 401
// itself is kept from the page's own code (it would only report an error) as it leaves.
(function () {
  const realFetch = window.fetch.bind(window);
  let leaving = false;

  function leave(r) {
    leaving = true;
    r.json()
      .then((body) => body && body.login, () => null)
      .then((to) => {
        const url = new URL(to || "/login", location.origin);
        url.searchParams.set("next", location.pathname);
        location.assign(url.pathname + url.search);
      });
  }

  window.fetch = function (input, init) {
    return realFetch(input, init).then((r) => {
      if (r.status !== 401 || location.pathname === "/login") return r;
      if (!leaving) leave(r);
      return new Promise(() => {}); // never answered: the page is going
    });
  };
})();
