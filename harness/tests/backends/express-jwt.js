// A mini-program login backend in the Express + jsonwebtoken style, in plain Node (no
// dependencies): a login trades the code with WeChat and answers an HS256 JWT {sub, iat, exp}
// living two hours; protected routes read `Authorization: Bearer <token>` and call `verify`,
// which follows jsonwebtoken's `jwt.verify(token, key, options)`: HS256 only, then the token is
// expired once `clockTimestamp >= exp + clockTolerance` (seconds on the process's wall clock).
// The key is never given to the harness: expiry can only be judged by moving this process's
// clock (libfaketime).
// DEFECT reproduces real bugs:
//   tolerance-day      `clockTolerance: 86400`, set once to silence "jwt expired" reports from
//                      clients with skewed clocks: every token works for a day past its exp
//   ignore-expiration  `ignoreExpiration: true`, left over from debugging: exp is never checked
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const KEY = crypto.randomBytes(32);
const TTL_SECS = 2 * 3600;
const VERIFY_OPTIONS = {
  algorithms: ['HS256'],
  clockTolerance: defect === 'tolerance-day' ? 86400 : 0,
  ignoreExpiration: defect === 'ignore-expiration',
};

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

function sign(payload) {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${crypto.createHmac('sha256', KEY).update(input).digest('base64url')}`;
}

// jsonwebtoken's verify, as far as HS256 and exp go: throws on any problem.
function verify(token, options) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error('jwt malformed');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  if (!options.algorithms.includes(header.alg)) throw new Error('invalid algorithm');
  const expected = crypto.createHmac('sha256', KEY).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw new Error('invalid signature');
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  const clockTimestamp = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'undefined' && !options.ignoreExpiration) {
    if (typeof payload.exp !== 'number') throw new Error('invalid exp value');
    if (clockTimestamp >= payload.exp + (options.clockTolerance || 0)) throw new Error('jwt expired');
  }
  return payload;
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
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/ready') return send(res, 200, { ok: true });
    if (url.pathname === '/api/me' && req.method === 'GET') {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      let payload;
      try { payload = verify(m ? m[1] : '', VERIFY_OPTIONS); } catch (e) { return send(res, 401, { error: 'unauthorized' }); }
      return send(res, 200, { openid: payload.sub });
    }
    if (url.pathname === '/api/login' && req.method === 'POST') {
      let code;
      try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, 400, { error: 'bad json' }); }
      if (typeof code !== 'string' || code.trim() === '') return send(res, 400, { error: 'missing code' });
      let answer;
      try { answer = await code2session(code); } catch (e) { return send(res, 502, { error: 'wechat unavailable' }); }
      if (!answer.openid) return send(res, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 400, { error: 'login failed' });
      const iat = Math.floor(Date.now() / 1000);
      return send(res, 200, { token: sign({ sub: answer.openid, iat, exp: iat + TTL_SECS }) });
    }
    send(res, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('express jwt backend up'));
