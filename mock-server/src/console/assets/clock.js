// wxmock console: the Clock view: the fake's now and its jumps forward.
'use strict';

(function (c) {
  const { state, $, api, say, fmtTime, fmtOffset } = c;


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
    await c.loadUsers();
  }


  Object.assign(c, { renderClock, loadClock, advance });
})(window.wxmockConsole);
