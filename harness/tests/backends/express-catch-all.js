// A mini-program login backend in the Express style, in plain Node (no dependencies): every
// route runs inside one catch-all, as `app.use((err, req, res, next) => ...)` does. A login
// trades the code with WeChat and hands out an HMAC-signed token `base64url(payload).sig`
// carrying a session id; /api/user-info decrypts WeChat's encryptedData (AES-128-CBC) with the
// session's session_key. The clean version answers every failure with a short fixed message and
// logs only the openid of each login.
// DEFECT (comma-separated) reproduces real bugs:
//   error-message  the catch-all answers `res.status(500).json({ error: e.message })`: JSON.parse's
//                  `Unexpected token '<'` on WeChat's HTML page, `socket hang up`, OpenSSL's
//                  `bad decrypt`, `Invalid initialization vector`, a TypeError on a garbage token
//   log-answer     `console.log('jscode2session', url, body)`: the appsecret in the URL and the
//                  session_key in WeChat's answer end up in the log
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defects = new Set((process.env.DEFECT || '').split(',').filter(Boolean));
const signingKey = crypto.randomBytes(32);
const sessions = new Map(); // sid -> { openid, sessionKey }

class Refusal extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function code2session(code) {
  const url = `${base}/sns/jscode2session?appid=${encodeURIComponent(appid)}&secret=${encodeURIComponent(secret)}` +
    `&js_code=${encodeURIComponent(code)}&grant_type=authorization_code`;
  const text = await get(url);
  if (defects.has('log-answer')) console.log('jscode2session', url, text);
  const answer = JSON.parse(text); // throws on WeChat's HTML page or garbage
  if (answer.errcode) throw new Refusal(answer.errcode === -1 ? 503 : 401, answer.errmsg || 'login failed');
  return answer;
}

function sign(payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${crypto.createHmac('sha256', signingKey).update(body).digest('base64url')}`;
}

function verify(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  if (!m) throw new Refusal(401, 'unauthorized');
  const [body, sig] = m[1].split('.');
  // The careless order: the payload is parsed before the signature is checked.
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
  const want = crypto.createHmac('sha256', signingKey).update(body).digest('base64url');
  if (sig !== want) throw new Refusal(401, 'unauthorized');
  const session = sessions.get(payload.sid);
  if (!session) throw new Refusal(401, 'unauthorized');
  return session;
}

function decrypt(sessionKey, encryptedData, iv) {
  const decipher = crypto.createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  const text = Buffer.concat([decipher.update(Buffer.from(encryptedData, 'base64')), decipher.final()]).toString();
  const data = JSON.parse(text);
  if (!data.watermark || data.watermark.appid !== appid) throw new Refusal(400, 'invalid encrypted data');
  return data;
}

function json(raw) {
  try { return JSON.parse(raw || '{}') || {}; } catch (e) { throw new Refusal(400, 'invalid json'); }
}

async function route(req, url, raw) {
  if (url.pathname === '/ready') return [200, { ok: true }];
  if (url.pathname === '/api/login' && req.method === 'POST') {
    const { code } = json(raw);
    if (typeof code !== 'string' || code.trim() === '') throw new Refusal(400, 'missing code');
    const answer = await code2session(code);
    const sid = crypto.randomBytes(16).toString('hex');
    sessions.set(sid, { openid: answer.openid, sessionKey: answer.session_key });
    console.log('login', answer.openid);
    return [200, { token: sign({ sid }), openid: answer.openid }];
  }
  if (url.pathname === '/api/me' && req.method === 'GET') {
    return [200, { openid: verify(req).openid }];
  }
  if (url.pathname === '/api/user-info' && req.method === 'POST') {
    const session = verify(req);
    const { encryptedData, iv } = json(raw);
    return [200, { data: decrypt(session.sessionKey, encryptedData, iv) }];
  }
  throw new Refusal(404, 'not found');
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://localhost');
    try {
      const [status, body] = await route(req, url, raw);
      send(res, status, body);
    } catch (e) {
      if (e instanceof Refusal) return send(res, e.status, { error: e.message });
      if (defects.has('error-message')) return send(res, 500, { error: e.message });
      // What a careful catch-all answers: the route decides the words, the log keeps the detail.
      console.error('request failed:', req.method, url.pathname, e.name);
      if (url.pathname === '/api/login') return send(res, 502, { error: 'login failed' });
      if (url.pathname === '/api/user-info') return send(res, 400, { error: 'invalid encrypted data' });
      return send(res, 401, { error: 'unauthorized' });
    }
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('express catch-all backend up'));
