// wxmock console: the Encrypted data view: open data forged for the selected user.
'use strict';

(function (c) {
  const { state, $, el, api, copyButton } = c;

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
    const user = c.selectedUser();
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
      el('p', { class: 'hint', text: `${answer.variant || $('#forge-variant').value} ${$('#forge-kind').value} for ${c.personaName(user)}, under the session_key the fake holds now.` }), rows));
    await c.loadUsers();
  }


  Object.assign(c, { loadForgeChoices, describeVariant, forge });
})(window.wxmockConsole);
