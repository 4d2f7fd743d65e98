// wxmock console: plain JavaScript, no framework and no build step. Every action is a call to
// the control API under /__admin, exactly as curl or a test would make it.
'use strict';

(function () {
  const config = JSON.parse(document.getElementById('wxmock-config').textContent);
  const personaByOpenid = new Map(config.personas.map((p) => [p.openid, p]));

  // Query keys and JSON fields whose values are credentials: shown as *** unless the journal
  // API already masked them.
  const SECRET_KEYS = ['secret', 'appsecret', 'access_token', 'session_key', 'signature'];
  const POLL_MS = 1000;
  // A control-API token (a fake started with one), kept for this tab only.
  const TOKEN_KEY = 'wxmock.admin-token';
  const MAX_ENTRIES = 1000;
  const SHOWN_ENTRIES = 200;

  const SCENARIO_LABELS = {
    'invalid-code': 'Invalid code (40029)',
    'code-reused': 'Code reused (40163)',
    'wechat-busy': 'WeChat busy (-1)',
    'rate-limited': 'Rate limited (45011)',
    'high-risk': 'High risk (40226)',
    'session-expired': 'Session expired',
    'slow-wechat': 'Slow (3 s)',
    'garbage-body': 'Garbage body',
    'connection-reset': 'Connection reset',
    'access-token-expired': 'Access token expired (42001)',
    'access-token-superseded': 'Access token superseded (40001)',
    'errcode-zero': 'Success with errcode 0',
  };
  // Scenarios that change state once instead of installing a fault rule: no `times`.
  const STATE_SCENARIOS = new Set(['session-expired', 'access-token-expired', 'access-token-superseded']);
  // Scenarios about one user: always sent with the selected user.
  const USER_SCENARIOS = new Set(['session-expired']);

  const state = {
    apps: [],
    appid: localStorage.getItem('wxmock.appid') || '',
    users: [],
    openid: localStorage.getItem('wxmock.openid') || '',
    lastLogin: null,
    entries: [],
    lastId: 0,
    open: new Set(),
    faults: [],
    now: null,
    offset: 0,
    scenarios: [],
    forge: { kinds: [], variants: [] },
  };

  const $ = (selector, root) => (root || document).querySelector(selector);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- the control API -------------------------------------------------------------------

  async function api(method, path, body) {
    const init = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) init.headers.authorization = 'Bearer ' + token;
    const response = await fetch('/__admin' + path, init);
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch (_) { /* not JSON: reported below */ }
    if (!response.ok) {
      const error = new Error((json && json.error) || `${method} /__admin${path} answered HTTP ${response.status}`);
      if (response.status === 401) {
        // The token prompt says it; no second message.
        error.needsToken = true;
        askForToken(Boolean(token));
      }
      throw error;
    }
    return json;
  }

  // A token given in the URL (`/__admin/console#token=…`, as the banner may print it) is kept for
  // the tab and taken out of the address bar; the fragment never reaches the server.
  function takeTokenFromUrl() {
    const match = /^#token=([^&]+)/.exec(location.hash);
    if (!match) return;
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search + '#personas');
  }

  function askForToken(rejected) {
    const form = $('#token-form');
    if (!form.hidden) return;
    form.hidden = false;
    $('#token-why').textContent = rejected
      ? 'The token was refused: check it and try again.'
      : 'This fake was started with a control-API token: enter it to use the console.';
    $('#token-input').focus();
  }

  async function useToken(event) {
    event.preventDefault();
    const value = $('#token-input').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('#token-form').hidden = true;
    $('#token-input').value = '';
    await refresh();
    await Promise.all([loadScenarios(), loadForgeChoices(), pollJournal()]);
    document.body.dataset.ready = 'true';
  }

  let statusTimer = null;
  function say(message, kind) {
    const box = $('#status');
    box.textContent = message;
    box.className = kind === 'info' ? 'info' : '';
    box.hidden = false;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { box.hidden = true; }, kind === 'info' ? 4000 : 10000);
  }

  function guarded(fn) {
    return async (...args) => {
      try { await fn(...args); } catch (err) { if (!err.needsToken) say(err.message); }
    };
  }

  function copyButton(getText, label) {
    const button = el('button', { type: 'button', class: 'copy', text: label || 'Copy' });
    button.addEventListener('click', async () => {
      const text = getText();
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        // Clipboard API refused (no focus, non-secure origin): fall back to a selection copy.
        const area = el('textarea', {}, text);
        document.body.append(area);
        area.select();
        document.execCommand('copy');
        area.remove();
      }
      button.classList.add('done');
      button.textContent = 'Copied';
      setTimeout(() => { button.classList.remove('done'); button.textContent = label || 'Copy'; }, 1500);
    });
    return button;
  }

  // ---- apps and users --------------------------------------------------------------------

  function personaName(user) {
    const persona = personaByOpenid.get(user.openid);
    if (persona) return persona.name;
    return user.nickName || 'user';
  }

  function selectedUser() {
    return state.users.find((u) => u.openid === state.openid) || null;
  }

  async function loadApps(known) {
    const answer = known || await api('GET', '/apps');
    state.apps = answer.apps;
    if (!state.apps.includes(state.appid)) state.appid = state.apps[0] || '';
    const pick = $('#app');
    pick.replaceChildren(...state.apps.map((appid) => el('option', { value: appid, text: appid })));
    pick.value = state.appid;
    const filter = $('#filter-appid');
    const chosen = filter.value;
    filter.replaceChildren(el('option', { value: '', text: 'any' }),
      ...state.apps.map((appid) => el('option', { value: appid, text: appid })));
    filter.value = state.apps.includes(chosen) ? chosen : '';
    document.querySelectorAll('.current-app').forEach((n) => { n.textContent = state.appid || 'no app'; });
  }

  async function loadUsers() {
    if (!state.appid) { state.users = []; renderUsers(); return; }
    const answer = await api('GET', `/apps/${encodeURIComponent(state.appid)}/users`);
    state.users = answer.users;
    // Personas first, in their usual order, then the others.
    const order = (u) => {
      const index = config.personas.findIndex((p) => p.openid === u.openid);
      return index === -1 ? config.personas.length : index;
    };
    state.users.sort((a, b) => order(a) - order(b));
    if (!state.users.some((u) => u.openid === state.openid)) {
      state.openid = state.users.length ? state.users[0].openid : '';
    }
    renderUsers();
  }

  function renderUsers() {
    const list = $('#persona-list');
    list.replaceChildren(...state.users.map((user) => {
      const tags = [];
      if (user.blocked) tags.push(el('span', { class: 'tag bad', text: 'high-risk' }));
      if (user.unionid) tags.push(el('span', { class: 'tag', text: 'unionid' }));
      if (user.phoneNumber) tags.push(el('span', { class: 'tag', text: 'phone' }));
      return el('li', {},
        el('button', {
          type: 'button',
          class: user.openid === state.openid ? 'persona selected' : 'persona',
          dataset: { openid: user.openid, name: personaName(user) },
          onclick: () => selectUser(user.openid),
        }, el('span', { class: 'name', text: personaName(user) }), tags,
        el('span', { class: 'id', text: user.openid })));
    }));
    if (!state.users.length) list.replaceChildren(el('li', { class: 'hint', text: 'This app has no users yet: create one below.' }));
    const user = selectedUser();
    document.querySelectorAll('.current-user').forEach((n) => { n.textContent = user ? personaName(user) : 'the selected user'; });
    renderUserDetail();
  }

  function selectUser(openid) {
    if (openid !== state.openid) state.lastLogin = null;
    state.openid = openid;
    localStorage.setItem('wxmock.openid', openid);
    renderUsers();
  }

  function fmtTime(unix) {
    if (unix === null || unix === undefined) return '—';
    return new Date(unix * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  }

  function appSecretFor(appid) {
    return appid === config.demo_appid ? config.demo_secret : null;
  }

  function exchangeCurl(appid, code) {
    const secret = appSecretFor(appid);
    const lines = [];
    if (!secret) lines.push("APPSECRET='<this app's secret, from your config>'");
    lines.push(`curl -s "${location.origin}/sns/jscode2session?appid=${appid}&secret=${secret || '$APPSECRET'}&js_code=${code}&grant_type=authorization_code"`);
    return lines.join('\n');
  }

  function renderUserDetail() {
    const box = $('#persona-detail');
    const user = selectedUser();
    if (!user) { box.replaceChildren(el('p', { class: 'hint', text: 'Pick a user on the left.' })); return; }
    const persona = personaByOpenid.get(user.openid);
    const name = personaName(user);
    const field = (label, value, id) => [el('dt', { text: label }), el('dd', { id, text: value === null || value === undefined || value === '' ? '—' : value })];
    const phone = user.phoneNumber ? (user.countryCode && user.countryCode !== '86' ? `+${user.countryCode} ${user.phoneNumber}` : user.phoneNumber) : null;
    const children = [
      el('h2', {}, name, persona ? el('small', { text: ' ' + persona.description }) : null),
      el('dl', { class: 'fields' },
        field('openid', user.openid, 'user-openid'),
        field('unionid', user.unionid, 'user-unionid'),
        field('session_key', user.session_key || 'none yet (log in first)', 'user-session-key'),
        field('expires', user.session_key ? fmtTime(user.session_key_expires_at) : null),
        field('previous key', user.previous_session_key),
        field('phone', phone, 'user-phone'),
        field('nickName', user.nickName),
        field('status', user.blocked ? 'high-risk: WeChat refuses their codes (40226)' : 'normal')),
      el('div', { class: 'buttons' },
        el('button', { type: 'button', id: 'login-as', onclick: guarded(loginAs) }, `Log in as ${name}`),
        user.phoneNumber ? el('button', { type: 'button', class: 'quiet', id: 'phone-code', onclick: guarded(phoneCode) }, 'Phone code') : null),
    ];
    if (state.lastLogin && state.lastLogin.openid === user.openid) children.push(loginResult(state.lastLogin));
    box.replaceChildren(...children);
  }

  function loginResult(login) {
    const magic = `wxmock-as-${personaByOpenid.has(login.openid) ? personaByOpenid.get(login.openid).name : login.openid}`;
    const curl = exchangeCurl(login.appid, login.code);
    const rows = [
      el('h3', { text: login.kind === 'phone' ? 'Phone code (getPhoneNumber)' : 'Login code (what wx.login would give)' }),
      el('div', { class: 'row' }, el('code', { id: login.kind === 'phone' ? 'phone-code-value' : 'login-code', class: 'codeline', text: login.code }), copyButton(() => login.code)),
    ];
    if (login.kind === 'phone') {
      rows.push(el('p', { class: 'hint', text: 'Single use, 5 minutes: your backend redeems it at /wxa/business/getuserphonenumber.' }));
    } else {
      rows.push(el('p', { class: 'hint', text: 'Single use, 5 minutes, this app only. Your backend redeems it like this:' }),
        el('div', { class: 'row' }, el('pre', { id: 'login-curl', text: curl }), copyButton(() => curl)),
        el('p', { class: 'hint' }, 'No console needed from a mini-program: send ', el('code', { text: magic }), ' as the code ', copyButton(() => magic)));
    }
    return el('div', { class: 'result', id: 'login-result' }, rows);
  }

  async function loginAs() {
    const user = selectedUser();
    if (!user) return;
    const answer = await api('POST', '/login', { appid: state.appid, openid: user.openid });
    state.lastLogin = { kind: 'login', appid: state.appid, openid: user.openid, code: answer.code };
    await loadUsers();
  }

  async function phoneCode() {
    const user = selectedUser();
    if (!user) return;
    const answer = await api('POST', '/phone-code', { appid: state.appid, openid: user.openid });
    state.lastLogin = { kind: 'phone', appid: state.appid, openid: user.openid, code: answer.code };
    renderUserDetail();
  }

  async function createUser(event) {
    event.preventDefault();
    const form = event.target;
    const body = { appid: state.appid };
    for (const name of ['openid', 'unionid', 'nickName', 'phoneNumber']) {
      const value = form.elements[name].value.trim();
      if (value) body[name] = value;
    }
    if (form.elements.blocked.checked) body.blocked = true;
    const user = await api('POST', '/users', body);
    form.reset();
    state.openid = user.openid;
    await loadUsers();
    say(`Created user ${user.openid} in ${state.appid}`, 'info');
  }

  // ---- the journal -----------------------------------------------------------------------

  function isMasked(value) {
    return typeof value === 'string' && value.includes('*');
  }

  function maskValue(key, value) {
    if (SECRET_KEYS.includes(key) && typeof value === 'string' && value && !isMasked(value)) return '***';
    return value;
  }

  function maskJson(value) {
    if (Array.isArray(value)) return value.map(maskJson);
    if (value && typeof value === 'object') {
      const out = {};
      for (const [key, inner] of Object.entries(value)) out[key] = maskValue(key, maskJson(inner));
      return out;
    }
    return value;
  }

  function showBody(text) {
    if (!text) return '(empty)';
    try { return JSON.stringify(maskJson(JSON.parse(text)), null, 2); } catch (_) { return text; }
  }

  function outcomeOf(entry) {
    if (entry.status === 0) return { text: 'no answer', bad: true };
    try {
      const body = JSON.parse(entry.response_body);
      if (body && typeof body === 'object' && 'errcode' in body) {
        return { text: String(body.errcode), bad: body.errcode !== 0, errcode: body.errcode };
      }
      return { text: 'ok', bad: false };
    } catch (_) {
      return { text: 'not JSON', bad: true };
    }
  }

  function entryMentions(entry, openid) {
    const haystack = [JSON.stringify(entry.query), entry.body, entry.response_body].join('\n');
    return haystack.includes(openid);
  }

  function filtered() {
    const path = $('#filter-path').value.trim();
    const appid = $('#filter-appid').value;
    const openid = $('#filter-openid').value.trim();
    return state.entries.filter((entry) =>
      (!path || entry.path === path || (path.endsWith('*') && entry.path.startsWith(path.slice(0, -1))))
      && (!appid || entry.appid === appid)
      && (!openid || entryMentions(entry, openid)));
  }

  function renderJournal(freshIds) {
    const shown = filtered().slice(-SHOWN_ENTRIES).reverse();
    const list = $('#journal-list');
    list.replaceChildren(...shown.map((entry) => journalEntry(entry, freshIds && freshIds.has(entry.id))));
    $('#journal-empty').hidden = shown.length > 0;
    $('#journal-empty').textContent = state.entries.length
      ? 'No entry matches the filters.'
      : 'Nothing yet: requests to the fake WeChat API appear here as they arrive.';
    $('#journal-count').textContent = state.entries.length ? String(state.entries.length) : '';
    const paths = [...new Set(state.entries.map((e) => e.path))].sort();
    $('#journal-paths').replaceChildren(...paths.map((p) => el('option', { value: p })));
  }

  function journalEntry(entry, fresh) {
    const outcome = outcomeOf(entry);
    const query = Object.entries(entry.query || {})
      .map(([key, value]) => `${key}=${maskValue(key, value)}`).join('&');
    const details = el('details', {
      class: fresh ? 'entry fresh' : 'entry',
      dataset: { id: entry.id, path: entry.path, errcode: outcome.errcode === undefined ? '' : outcome.errcode },
      open: state.open.has(entry.id),
    },
    el('summary', {},
      el('span', { class: 'muted', text: '#' + entry.id }),
      el('span', { text: fmtTime(entry.time).slice(11, 19) }),
      el('span', { text: entry.method }),
      el('span', { class: 'path', text: entry.path }),
      el('span', { text: String(entry.status || '—') }),
      el('span', { class: outcome.bad ? 'outcome errcode-bad' : 'outcome errcode-ok', text: outcome.text },
        entry.fault ? el('span', { class: 'tag bad', text: entry.fault }) : null)),
    el('div', { class: 'detail' },
      el('h4', { text: 'Request' }),
      el('pre', { text: `${entry.method} ${entry.path}${query ? '?' + query : ''}` + (entry.body ? '\n\n' + showBody(entry.body) : '') }),
      el('h4', { text: `Answer (HTTP ${entry.status || 'none'})` }),
      el('pre', { class: 'answer', text: entry.status === 0 ? '(the connection was held or dropped)' : showBody(entry.response_body) }),
      el('p', { class: 'hint', text: `app ${entry.appid || '—'} · fake time ${fmtTime(entry.time)}${entry.fault ? ' · answered by ' + entry.fault : ''}` })));
    details.addEventListener('toggle', () => {
      if (details.open) state.open.add(entry.id); else state.open.delete(entry.id);
    });
    return details;
  }

  async function pollJournal() {
    if ($('#journal-pause').checked) return;
    const answer = await api('GET', `/journal?since=${state.lastId}`);
    // A reset or clear elsewhere: ids keep counting, so a last_id below ours means entries went.
    if (answer.last_id < state.lastId) { state.entries = []; state.lastId = 0; renderJournal(); return; }
    if (!answer.entries.length) return;
    state.lastId = answer.last_id;
    // Entries still in flight (held connections) come again complete: keep the newest copy.
    const fresh = new Set(answer.entries.map((e) => e.id));
    state.entries = state.entries.filter((e) => !fresh.has(e.id)).concat(answer.entries).slice(-MAX_ENTRIES);
    renderJournal(fresh);
  }

  async function clearJournal() {
    await api('DELETE', '/journal');
    state.entries = [];
    state.open.clear();
    renderJournal();
  }

  // ---- faults and scenarios --------------------------------------------------------------

  async function loadScenarios() {
    const answer = await api('GET', '/scenarios');
    const main = Object.keys(SCENARIO_LABELS);
    state.scenarios = answer.scenarios.slice().sort((a, b) => {
      const ia = main.indexOf(a.name); const ib = main.indexOf(b.name);
      return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    });
    $('#scenario-buttons').replaceChildren(...state.scenarios.map((s) => el('button', {
      type: 'button',
      class: STATE_SCENARIOS.has(s.name) ? 'scenario state' : 'scenario',
      title: s.description,
      dataset: { scenario: s.name },
      onmouseenter: () => { $('#scenario-description').textContent = s.description; },
      onclick: guarded(() => applyScenario(s)),
    }, SCENARIO_LABELS[s.name] || s.name)));
  }

  async function applyScenario(scenario) {
    const body = { appid: state.appid };
    const user = selectedUser();
    if (USER_SCENARIOS.has(scenario.name) || $('#fault-only-user').checked) {
      if (!user) throw new Error(`${scenario.name} needs a user: pick one under Personas`);
      body.openid = user.openid;
    }
    if (!STATE_SCENARIOS.has(scenario.name)) {
      const times = parseInt($('#fault-times').value, 10);
      if (!(times >= 1)) throw new Error('"calls" must be a number, at least 1');
      body.times = times;
    }
    await api('POST', `/scenarios/${scenario.name}`, body);
    say(`${SCENARIO_LABELS[scenario.name] || scenario.name}: ${scenario.description}`, 'info');
    await Promise.all([loadFaults(), loadUsers()]);
  }

  function describeAction(rule) {
    if (rule.sequence) return `sequence of ${rule.sequence.length}`;
    if (rule.errcode !== undefined) return `errcode ${rule.errcode}${rule.errmsg ? ' ' + rule.errmsg : ''}`;
    if (rule.fault) return rule.fault + (rule.delay_ms ? ` ${rule.delay_ms} ms` : '');
    if (rule.status !== undefined) return `HTTP ${rule.status}`;
    return 'custom';
  }

  async function loadFaults() {
    const answer = await api('GET', '/faults');
    state.faults = answer.faults;
    renderFaults();
  }

  function renderFaults() {
    const rows = state.faults.map((rule) => el('tr', { dataset: { fault: rule.id } },
      el('td', { class: 'mono', text: rule.id }),
      el('td', { class: 'mono', text: rule.path }),
      el('td', { class: 'mono', text: [rule.appid || 'every app', rule.openid ? (personaByOpenid.get(rule.openid) || {}).name || rule.openid : null].filter(Boolean).join(' · ') }),
      el('td', { text: describeAction(rule) }),
      el('td', { class: 'remaining', text: rule.remaining === undefined ? 'every call' : String(rule.remaining) }),
      el('td', { text: String(rule.hits) }),
      el('td', {}, el('button', { type: 'button', class: 'remove', dataset: { remove: rule.id }, onclick: guarded(() => removeFault(rule.id)) }, 'Remove'))));
    $('#fault-list').replaceChildren(...rows);
    $('#fault-table').hidden = rows.length === 0;
    $('#fault-empty').hidden = rows.length > 0;
    $('#fault-count').textContent = rows.length ? String(rows.length) : '';
  }

  async function removeFault(id) {
    try {
      await api('DELETE', `/faults/${encodeURIComponent(id)}`);
    } catch (err) {
      // Used up in the meantime: gone either way.
      if (!/no fault rule/.test(err.message)) throw err;
    }
    await loadFaults();
  }

  // ---- the clock -------------------------------------------------------------------------

  function fmtOffset(secs) {
    if (!secs) return 'nothing';
    const parts = [];
    const units = [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']];
    let rest = secs;
    for (const [size, unit] of units) {
      if (rest >= size) { parts.push(`${Math.floor(rest / size)} ${unit}`); rest %= size; }
    }
    return parts.join(' ');
  }

  function renderClock() {
    const now = $('#clock-now');
    now.textContent = fmtTime(state.now);
    now.dataset.now = String(state.now);
    $('#clock-unix').textContent = String(state.now);
    $('#clock-offset').textContent = fmtOffset(state.offset);
    $('#clock-badge').textContent = fmtTime(state.now);
  }

  async function loadClock() {
    const answer = await api('GET', '/clock');
    state.now = answer.now;
    state.offset = answer.offset || 0;
    renderClock();
  }

  async function advance(secs) {
    const answer = await api('POST', '/clock', { advance_secs: secs });
    state.now = answer.now;
    state.offset = answer.offset || 0;
    renderClock();
    say(`The fake's clock moved forward by ${fmtOffset(secs)}.`, 'info');
    await loadUsers();
  }

  // ---- encrypted data --------------------------------------------------------------------

  async function loadForgeChoices() {
    state.forge = await api('GET', '/encrypt');
    $('#forge-kind').replaceChildren(...state.forge.kinds.map((k) => el('option', { value: k, text: k })));
    $('#forge-variant').replaceChildren(...state.forge.variants.map((v) => el('option', { value: v.name, text: v.name })));
    describeVariant();
  }

  function describeVariant() {
    const variant = state.forge.variants.find((v) => v.name === $('#forge-variant').value);
    $('#forge-variant-description').textContent = variant ? variant.description : '';
  }

  async function forge(event) {
    event.preventDefault();
    const user = selectedUser();
    if (!user) throw new Error('Pick a user under Personas first');
    const answer = await api('POST', '/encrypt', {
      appid: state.appid, openid: user.openid, kind: $('#forge-kind').value, variant: $('#forge-variant').value,
    });
    const rows = [];
    for (const key of ['encryptedData', 'iv', 'rawData', 'signature', 'plaintext']) {
      if (answer[key] === undefined || answer[key] === null) continue;
      const value = String(answer[key]);
      rows.push(el('h3', { text: key }), el('div', { class: 'row' }, el('pre', { dataset: { field: key }, text: value }), copyButton(() => value)));
    }
    const all = JSON.stringify({ encryptedData: answer.encryptedData, iv: answer.iv }, null, 2);
    rows.push(el('div', { class: 'buttons' }, copyButton(() => all, 'Copy {encryptedData, iv} as JSON')));
    $('#forge-result').replaceChildren(el('div', { class: 'result' },
      el('p', { class: 'hint', text: `${answer.variant || $('#forge-variant').value} ${$('#forge-kind').value} for ${personaName(user)}, under the session_key the fake holds now.` }), rows));
    await loadUsers();
  }

  // ---- views -----------------------------------------------------------------------------

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
    await loadApps();
    await Promise.all([loadUsers(), loadFaults(), loadClock()]);
  }

  // Apps created (or reset away) elsewhere show up without a reload; the picker is rebuilt only
  // when the list changed, so an open dropdown is left alone.
  async function watchApps() {
    const answer = await api('GET', '/apps');
    if (JSON.stringify(answer.apps) === JSON.stringify(state.apps)) return;
    await loadApps(answer);
    await loadUsers();
  }

  let polling = false;
  async function tick() {
    if (polling) return;
    polling = true;
    try {
      await Promise.all([pollJournal(), loadFaults(), loadClock(), watchApps()]);
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
      await loadUsers();
    }));
    $('#create-user').addEventListener('submit', guarded(createUser));
    $('#journal-filter').addEventListener('input', () => renderJournal());
    $('#journal-filter').addEventListener('change', () => renderJournal());
    $('#journal-filter').addEventListener('submit', (event) => event.preventDefault());
    $('#journal-clear').addEventListener('click', guarded(clearJournal));
    document.querySelectorAll('[data-advance]').forEach((button) => {
      button.addEventListener('click', guarded(() => advance(parseInt(button.dataset.advance, 10))));
    });
    $('#forge').addEventListener('submit', guarded(forge));
    $('#forge-variant').addEventListener('change', describeVariant);
    try {
      await refresh();
      await Promise.all([loadScenarios(), loadForgeChoices(), pollJournal()]);
      document.body.dataset.ready = 'true';
    } catch (err) {
      if (!err.needsToken) say(`Cannot reach the control API: ${err.message}`);
    }
    setInterval(tick, POLL_MS);
  }

  start();
})();
