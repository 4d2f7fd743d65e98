// A mini-program login backend in the express-session style, in plain Node (no dependencies):
// every answer without a known session cookie gets a fresh `sid` cookie (saveUninitialized), a
// login marks the session as the WeChat user and rotates its id, and /api/me reads the session.
// DEFECT=token-on-errcode reproduces a real bug: the session is logged in whatever WeChat says.
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const sessions = new Map();

function newSession() {
  const id = crypto.randomBytes(18).toString('base64url');
  sessions.set(id, {});
  return id;
}

function sessionOf(req) {
  const m = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie || '');
  return m && sessions.has(m[1]) ? m[1] : null;
}

function send(res, sid, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly`);
  res.end(JSON.stringify(body));
}

function code2session(code) {
  const url = `${base}/sns/jscode2session?appid=${encodeURIComponent(appid)}&secret=${encodeURIComponent(secret)}` +
    `&js_code=${encodeURIComponent(code)}&grant_type=authorization_code`;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try { resolve(JSON.parse(text)); } catch (e) { reject(new Error('not json')); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

http.createServer((req, res) => {
  let sid = sessionOf(req) || newSession();
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    if (req.url === '/ready') return send(res, sid, 200, { ok: true });
    if (req.url === '/api/me' && req.method === 'GET') {
      const s = sessions.get(sid);
      return s.openid !== undefined ? send(res, sid, 200, { openid: s.openid }) : send(res, sid, 401, { error: 'unauthorized' });
    }
    if (req.url === '/api/login' && req.method === 'POST') {
      let code;
      try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, sid, 400, { error: 'bad json' }); }
      if (typeof code !== 'string' || code.trim() === '') return send(res, sid, 400, { error: 'missing code' });
      let answer;
      try { answer = await code2session(code); } catch (e) { return send(res, sid, 502, { error: 'upstream error' }); }
      if (!answer.openid && defect !== 'token-on-errcode') {
        return send(res, sid, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 401, { error: 'login failed' });
      }
      sessions.delete(sid); // a login rotates the session id (no session fixation)
      sid = newSession();
      sessions.get(sid).openid = answer.openid || '';
      return send(res, sid, 200, { ok: true });
    }
    send(res, sid, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('session-cookie backend up'));
