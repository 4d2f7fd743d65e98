// wxmock console: starting up: views, the token, polling.
'use strict';

(function (c) {
  const { POLL_MS, TOKEN_KEY, state, $, api, say, guarded } = c;

  // A token given in the URL (`/__admin/console#token=…`, as the banner may print it) is kept for
  // the tab and taken out of the address bar; the fragment never reaches the server.
  function takeTokenFromUrl() {
    const match = /^#token=([^&]+)/.exec(location.hash);
    if (!match) return;
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search + '#personas');
  }

  async function useToken(event) {
    event.preventDefault();
    const value = $('#token-input').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('#token-form').hidden = true;
    $('#token-input').value = '';
    await refresh();
    await Promise.all([c.loadScenarios(), c.loadForgeChoices(), c.pollJournal()]);
    document.body.dataset.ready = 'true';
  }


  function showView() {
    $('#status').hidden = true;
    const name = (location.hash || '#personas').slice(1);
    const known = [...document.querySelectorAll('section[data-view]')].map((s) => s.dataset.view);
    const view = known.includes(name) ? name : 'personas';
    document.querySelectorAll('section[data-view]').forEach((section) => { section.hidden = section.dataset.view !== view; });
    document.querySelectorAll('[data-tab]').forEach((tab) => tab.classList.toggle('active', tab.dataset.tab === view));
    document.body.dataset.current = view;
  }

  async function refresh() {
    await c.loadApps();
    await Promise.all([c.loadUsers(), c.loadFaults(), c.loadClock()]);
  }

  // Apps created (or reset away) elsewhere show up without a reload; the picker is rebuilt only
  // when the list changed, so an open dropdown is left alone.
  async function watchApps() {
    const answer = await api('GET', '/apps');
    if (JSON.stringify(answer.apps) === JSON.stringify(state.apps)) return;
    await c.loadApps(answer);
    await c.loadUsers();
  }

  let polling = false;
  async function tick() {
    if (polling) return;
    polling = true;
    try {
      await Promise.all([c.pollJournal(), c.loadFaults(), c.loadClock(), watchApps()]);
      $('#status').dataset.offline = '';
    } catch (err) {
      if (!err.needsToken) say(`The fake does not answer (${err.message}); retrying.`);
    } finally {
      polling = false;
    }
  }

  async function start() {
    takeTokenFromUrl();
    $('#token-form').addEventListener('submit', guarded(useToken));
    window.addEventListener('hashchange', showView);
    showView();
    $('#app').addEventListener('change', guarded(async (event) => {
      state.appid = event.target.value;
      state.lastLogin = null;
      localStorage.setItem('wxmock.appid', state.appid);
      document.querySelectorAll('.current-app').forEach((n) => { n.textContent = state.appid; });
      await c.loadUsers();
    }));
    $('#create-user').addEventListener('submit', guarded(c.createUser));
    $('#journal-filter').addEventListener('input', () => c.renderJournal());
    $('#journal-filter').addEventListener('change', () => c.renderJournal());
    $('#journal-filter').addEventListener('submit', (event) => event.preventDefault());
    $('#journal-clear').addEventListener('click', guarded(c.clearJournal));
    document.querySelectorAll('[data-advance]').forEach((button) => {
      button.addEventListener('click', guarded(() => c.advance(parseInt(button.dataset.advance, 10))));
    });
    $('#forge').addEventListener('submit', guarded(c.forge));
    $('#forge-variant').addEventListener('change', c.describeVariant);
    try {
      await refresh();
      await Promise.all([c.loadScenarios(), c.loadForgeChoices(), c.pollJournal()]);
      document.body.dataset.ready = 'true';
    } catch (err) {
      if (!err.needsToken) say(`Cannot reach the control API: ${err.message}`);
    }
    setInterval(tick, POLL_MS);
  }


  start();
})(window.wxmockConsole);
