// A login the station has ended (logged out elsewhere, idle, password reset, disabled) answers
// every request 401 with where to go: the page follows, so no screen goes on looking logged
// in with a name in its header and NO DATA in its tiles. The login page says why.
(function () {
  const realFetch = window.fetch.bind(window);
  let leaving = false;
  window.fetch = function (input, init) {
    const answer = realFetch(input, init);
    answer.then(
      (r) => {
        if (r.status !== 401 || leaving || location.pathname === "/login") return;
        leaving = true;
        r.clone()
          .json()
          .then((body) => body && body.login, () => null)
          .then((to) => {
            const url = new URL(to || "/login", location.origin);
            url.searchParams.set("next", location.pathname);
            location.assign(url.pathname + url.search);
          });
      },
      () => {},
    );
    return answer;
  };
})();
