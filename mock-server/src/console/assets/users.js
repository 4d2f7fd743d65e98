// wxmock console: the Personas view: apps, their users, log in as, phone codes, creating a user.
'use strict';

(function (c) {
  const { config, personaByOpenid, state, $, el, api, say, guarded, copyButton, fmtTime } = c;

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


  Object.assign(c, { personaName, selectedUser, loadApps, loadUsers, renderUsers, selectUser, appSecretFor, exchangeCurl, renderUserDetail, loginResult, loginAs, phoneCode, createUser });
})(window.wxmockConsole);
