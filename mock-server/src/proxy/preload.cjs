// wxmock's Node preload: requests for api.weixin.qq.com go to the fake WeChat over plain HTTP
// on loopback; every other host is left alone. Load it with
//   NODE_OPTIONS="--require /path/to/wxmock-preload.cjs" WXMOCK_WECHAT_URL=http://127.0.0.1:7070
// It wraps http.request/get, https.request/get and globalThis.fetch (undici). Clients that open
// sockets themselves (undici's own request(), urllib 3+) are not covered: use the proxy there.
'use strict';

const HOST = 'api.weixin.qq.com';

function isWeChat(hostname) {
  if (typeof hostname !== 'string') return false;
  let h = hostname.toLowerCase();
  if (h.startsWith('[')) return false;
  h = h.replace(/:\d+$/, '');
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h === HOST;
}

function install(target) {
  const http = require('http');
  const https = require('https');
  const { URL, urlToHttpOptions } = require('url');
  const prefix = target.pathname.replace(/\/+$/, '');
  const originalHttpRequest = http.request;
  // TLS and socket options that make no sense on a plain loopback connection to the fake.
  const DROPPED = ['agent', 'ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized',
    'servername', 'checkServerIdentity', 'ciphers', 'secureProtocol', 'secureContext',
    'ALPNProtocols', 'createConnection', 'socketPath', 'lookup', 'family', 'localAddress',
    'host', 'hostname', 'port', 'defaultPort', 'protocol', 'href', 'origin'];

  // http.request's overloads: (url[, options][, callback]) or (options[, callback]).
  function split(args) {
    let i = 0;
    let url = null;
    if (typeof args[0] === 'string' || args[0] instanceof URL) {
      url = args[0];
      i = 1;
    }
    let options = null;
    if (args[i] && typeof args[i] === 'object') {
      options = args[i];
      i += 1;
    }
    const callback = typeof args[i] === 'function' ? args[i] : undefined;
    return { url, options, callback };
  }

  function redirected(args) {
    const { url, options, callback } = split(args);
    let base = {};
    if (url !== null) {
      try {
        base = urlToHttpOptions(typeof url === 'string' ? new URL(url) : url);
      } catch (e) {
        return null;
      }
    }
    const merged = Object.assign({}, base, options || {});
    const hostname = merged.hostname || merged.host;
    if (!isWeChat(hostname)) return null;
    const out = Object.assign({}, merged);
    for (const k of DROPPED) delete out[k];
    out.protocol = 'http:';
    out.hostname = target.hostname.replace(/^\[|\]$/g, '');
    out.port = target.port || 80;
    out.path = prefix + (merged.path || '/');
    const headers = Object.assign({}, Array.isArray(merged.headers) ? {} : merged.headers);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.host = HOST;
    out.headers = headers;
    return { options: out, callback };
  }

  function wrap(mod) {
    const original = mod.request;
    mod.request = function request(...args) {
      const to = redirected(args);
      if (to === null) return original.apply(this, args);
      return to.callback === undefined
        ? originalHttpRequest.call(http, to.options)
        : originalHttpRequest.call(http, to.options, to.callback);
    };
    // The modules' own get() calls their internal request, not the exported one: wrap it too.
    mod.get = function get(...args) {
      const req = mod.request(...args);
      req.end();
      return req;
    };
  }
  wrap(https);
  wrap(http);

  const originalFetch = globalThis.fetch;
  if (typeof originalFetch === 'function') {
    globalThis.fetch = function fetch(input, init) {
      let href = null;
      if (typeof input === 'string') href = input;
      else if (input instanceof URL) href = input.href;
      else if (input && typeof input.url === 'string') href = input.url;
      let url;
      try {
        url = new URL(href);
      } catch (e) {
        return originalFetch.call(this, input, init);
      }
      if (!isWeChat(url.hostname)) return originalFetch.call(this, input, init);
      const to = new URL(target.origin + prefix + url.pathname + url.search);
      // A dispatcher (an undici Agent or ProxyAgent) would send it elsewhere.
      const options = Object.assign({}, init);
      delete options.dispatcher;
      if (typeof input === 'string' || input instanceof URL) return originalFetch.call(this, to, options);
      return originalFetch.call(this, new Request(to, input), options);
    };
  }
  // `import { request } from 'node:https'` reads the ESM copies of the exports: refresh them.
  require('module').syncBuiltinESMExports();
}

const raw = process.env.WXMOCK_WECHAT_URL;
if (raw) {
  let target = null;
  try {
    target = new (require('url').URL)(raw);
  } catch (e) {
    process.emitWarning(`wxmock preload: WXMOCK_WECHAT_URL is not a URL (${raw}); not installed`);
  }
  if (target !== null) install(target);
}
