// A mini-program login backend in the Express + database-token style, in plain Node (no
// dependencies): a login trades the code with WeChat and stores a random token in a table
// (here a Map) with the user's openid; protected routes read `Authorization: Bearer <token>`.
// The clean version gives tokens a two-hour life and reads them from the header only.
// DEFECT (comma-separated) reproduces real bugs:
//   query-token   also reads `?token=` / `?access_token=` (koa/express tutorials' "convenience")
//   no-expiry     the token row has no expiry column: a token works forever
//   errcode-any   treats any `errcode` field in WeChat's answer as a failure, errcode 0 included
//   bare-500      no try/catch around the WeChat call: every upstream failure is Express's 500
//   shared-response  one module-level response object; `data.openid` is only set for new users,
//                 so a returning user gets the openid of whoever signed up last
//   stale-403     the auth middleware also guards /api/login: a stale token there answers 403
// and correct variants that older harness versions misjudged:
//   single-session  a new login revokes the user's previous tokens (one device at a time)
//   jwt-seconds   the token is an HS256 JWT of {sub, iat} alone, so two logins of one user in the
//                 same second get the same token
//   errors-200    every answer is HTTP 200 with {"code": 0 | <error>, ...} (Egg/ThinkPHP style)
//   envelope      the login answers {code: 0, data: {token, openid}}, a new object for every request
//                 (shared-response done right)
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defects = new Set((process.env.DEFECT || '').split(',').filter(Boolean));
const TTL_MS = 2 * 3600 * 1000;
const tokens = new Map(); // token -> { openid, expires }
const known = new Set(); // openids with a user row
const resp = { code: 0, data: {} }; // shared-response: the module-level answer

function send(res, status, body) {
  if (defects.has('errors-200')) {
    body = Object.assign({ code: status === 200 ? 0 : status }, body);
    status = 200;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
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

function jwtOf(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: Math.floor(Date.now() / 1000) })}`;
  const key = 'a-strong-key-for-the-per-second-jwt-0f9e8d7c';
  return `${input}.${crypto.createHmac('sha256', key).update(input).digest('base64url')}`;
}

function tokenOf(req, url) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  if (m) return m[1];
  if (defects.has('query-token')) return url.searchParams.get('token') || url.searchParams.get('access_token');
  return null;
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/ready') return send(res, 200, { ok: true });
    if (url.pathname === '/api/me' && req.method === 'GET') {
      const row = tokens.get(tokenOf(req, url) || '');
      if (!row || (!defects.has('no-expiry') && Date.now() > row.expires)) {
        return send(res, 401, { error: 'unauthorized' });
      }
      return send(res, 200, { openid: row.openid });
    }
    if (url.pathname === '/api/login' && req.method === 'POST') {
      if (defects.has('stale-403') && req.headers.authorization) {
        const row = tokens.get(tokenOf(req, url) || '');
        if (!row || Date.now() > row.expires) return send(res, 403, { error: 'invalid token' });
      }
      let code;
      try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, 400, { error: 'bad json' }); }
      if (typeof code !== 'string' || code.trim() === '') return send(res, 400, { error: 'missing code' });
      let answer;
      try { answer = await code2session(code); } catch (e) {
        return defects.has('bare-500') ? send(res, 500, { error: 'Internal Server Error' }) : send(res, 502, { error: 'wechat unavailable' });
      }
      if (defects.has('bare-500') && !answer.openid) return send(res, 500, { error: 'Internal Server Error' });
      const failed = defects.has('errcode-any') ? answer.errcode !== undefined : !answer.openid;
      if (failed || !answer.openid) {
        return send(res, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 400, { error: 'login failed' });
      }
      if (defects.has('single-session')) {
        for (const [t, row] of tokens) if (row.openid === answer.openid) tokens.delete(t);
      }
      const token = defects.has('jwt-seconds') ? jwtOf(answer.openid) : crypto.randomBytes(24).toString('hex');
      tokens.set(token, { openid: answer.openid, expires: Date.now() + TTL_MS });
      const isNew = !known.has(answer.openid);
      known.add(answer.openid);
      if (defects.has('envelope')) return send(res, 200, { code: 0, data: { token, openid: answer.openid } });
      if (defects.has('shared-response')) {
        resp.data.token = token;
        if (isNew) resp.data.openid = answer.openid;
        return send(res, 200, resp);
      }
      return send(res, 200, { token, openid: answer.openid });
    }
    send(res, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('express db-token backend up'));
