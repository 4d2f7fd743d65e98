// wxmock console: the Journal view: what the fake received and answered, live, filtered, masked.
'use strict';

(function (c) {
  const { SECRET_KEYS, MAX_ENTRIES, SHOWN_ENTRIES, state, $, el, api, fmtTime } = c;

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


  Object.assign(c, { isMasked, maskValue, maskJson, showBody, outcomeOf, entryMentions, filtered, renderJournal, journalEntry, pollJournal, clearJournal });
})(window.wxmockConsole);
