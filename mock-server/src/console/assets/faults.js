// wxmock console: the Faults view: one-click scenarios and the active fault rules.
'use strict';

(function (c) {
  const { personaByOpenid, SCENARIO_LABELS, STATE_SCENARIOS, USER_SCENARIOS, state, $, el, api, say, guarded } = c;

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
    const user = c.selectedUser();
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
    await Promise.all([loadFaults(), c.loadUsers()]);
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


  Object.assign(c, { loadScenarios, applyScenario, describeAction, loadFaults, renderFaults, removeFault });
})(window.wxmockConsole);
