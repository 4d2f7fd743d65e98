// wxmock console: the shared parts (config, state, the control-API client, DOM helpers).
// Plain JavaScript, no framework and no build step: every action is a call to the control API
// under /__admin, exactly as curl or a test would make it. One file per view; each adds its
// functions to `window.wxmockConsole`, and main.js starts the page.
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
    'access-token-rejected': 'Every access token refused (40001)',
    'errcode-zero': 'Success with errcode 0',
  };
  // Scenarios that change state once instead of installing a fault rule: no `times`.
  const STATE_SCENARIOS = new Set(['session-expired', 'access-token-expired', 'access-token-superseded', 'access-token-rejected']);
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

  function askForToken(rejected) {
    const form = $('#token-form');
    if (!form.hidden) return;
    form.hidden = false;
    $('#token-why').textContent = rejected
      ? 'The token was refused: check it and try again.'
      : 'This fake was started with a control-API token: enter it to use the console.';
    $('#token-input').focus();
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

  function fmtTime(unix) {
    if (unix === null || unix === undefined) return '—';
    return new Date(unix * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  }

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

  window.wxmockConsole = { config, personaByOpenid, SECRET_KEYS, POLL_MS, TOKEN_KEY, MAX_ENTRIES, SHOWN_ENTRIES, SCENARIO_LABELS, STATE_SCENARIOS, USER_SCENARIOS, state, $, el, api, askForToken, say, guarded, copyButton, fmtTime, fmtOffset };
})();
