"""A mini-program login backend in Python's standard library that hard-codes WeChat's URL, as
real ones do: there is no setting for the API's address. The harness tests it unchanged by
impersonating api.weixin.qq.com (urllib follows https_proxy and trusts SSL_CERT_FILE).
Opaque random bearer tokens; phone numbers and checksession through a cached access token,
refreshed when WeChat calls it invalid or expired.
DEFECT=token-on-errcode reproduces a real bug: a token is issued whatever WeChat answered."""

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WECHAT = "https://api.weixin.qq.com"
APPID = os.environ["WX_APPID"]
SECRET = os.environ["WX_SECRET"]
DEFECT = os.environ.get("DEFECT", "")
SESSIONS = {}  # token -> {"openid", "session_key"}
LOCK = threading.Lock()
ACCESS = {"value": None, "expires_at": 0.0}


def wechat(path, params, body=None):
    """One call to WeChat, bounded in time; the parsed JSON answer (ValueError if not JSON)."""
    url = WECHAT + path + "?" + urllib.parse.urlencode(params)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=2) as answer:
        return json.loads(answer.read().decode())


def access_token():
    with LOCK:
        if ACCESS["value"] and ACCESS["expires_at"] > time.time():
            return ACCESS["value"]
    answer = wechat("/cgi-bin/token", {"grant_type": "client_credential", "appid": APPID, "secret": SECRET})
    if not answer.get("access_token"):
        raise ValueError("no access token")
    with LOCK:
        ACCESS["value"] = answer["access_token"]
        ACCESS["expires_at"] = time.time() + answer.get("expires_in", 7200) - 300
    return answer["access_token"]


def with_token(op):
    """op(token); once more with a new token when WeChat says the old one is invalid/expired."""
    answer = op(access_token())
    if answer.get("errcode") in (40001, 40014, 42001):
        with LOCK:
            ACCESS["value"] = None
        answer = op(access_token())
    return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return json.loads(self.raw or b"{}")

    def caller(self):
        auth = self.headers.get("authorization") or ""
        if not auth.startswith("Bearer "):
            return None
        with LOCK:
            return SESSIONS.get(auth[len("Bearer "):])

    def do_GET(self):
        self.raw = b""
        self.guarded(self.get)

    def do_POST(self):
        # Read the whole body first, whatever the answer: the connection is kept alive.
        length = int(self.headers.get("content-length") or 0)
        self.raw = self.rfile.read(length) if length else b""
        self.guarded(self.post)

    def guarded(self, handler):
        # Bad input is caught where it is read (400); anything raised here is WeChat's doing:
        # no answer, a timeout, a reset, a body that is not JSON.
        try:
            handler()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.send(502, {"error": "upstream error"})

    def code_field(self):
        try:
            code = self.body().get("code")
        except (ValueError, AttributeError):
            return None
        return code if isinstance(code, str) and code.strip() else None

    def post(self):
        if self.path == "/api/login":
            code = self.code_field()
            if code is None:
                return self.send(400, {"error": "missing code"})
            answer = wechat("/sns/jscode2session", {"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"})
            if not answer.get("openid") and DEFECT != "token-on-errcode":
                return self.send(503 if answer.get("errcode") in (-1, 45011) else 401, {"error": "login failed"})
            token = secrets.token_hex(24)
            with LOCK:
                SESSIONS[token] = {"openid": answer.get("openid", ""), "session_key": answer.get("session_key", "")}
            return self.send(200, {"token": token})
        who = self.caller()
        if who is None:
            return self.send(401, {"error": "unauthorized"})
        if self.path == "/api/phone":
            code = self.code_field()
            if code is None:
                return self.send(400, {"error": "missing code"})
            answer = with_token(lambda t: wechat("/wxa/business/getuserphonenumber", {"access_token": t}, {"code": code}))
            info = answer.get("phone_info")
            if not info:
                return self.send(400 if answer.get("errcode") == 40029 else 502, {"error": "phone failed"})
            return self.send(200, {"phoneNumber": info["phoneNumber"]})
        self.send(404, {"error": "not found"})

    def get(self):
        if self.path == "/ready":
            return self.send(200, {"ok": True})
        who = self.caller()
        if who is None:
            return self.send(401, {"error": "unauthorized"})
        if self.path == "/api/me":
            return self.send(200, {"openid": who["openid"]})
        if self.path == "/api/session-check":
            signature = hmac.new(who["session_key"].encode(), b"", hashlib.sha256).hexdigest()
            answer = with_token(lambda t: wechat("/wxa/checksession", {"access_token": t, "openid": who["openid"], "signature": signature, "sig_method": "hmac_sha256"}))
            if not answer.get("errcode"):
                return self.send(200, {"valid": True})
            if answer.get("errcode") == 87009:
                return self.send(200, {"valid": False})
            return self.send(502, {"error": "upstream error"})
        self.send(404, {"error": "not found"})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("hard-coded WeChat backend (python) up", flush=True)
server.serve_forever()
