"""A login backend in the style of Node's jwt-simple, in Python's standard library: the token is
an HS256 JWT whose payload is a bare JSON string (jwt.encode("s-...", key)), not a claims
object, sent back raw as `Authorization: <token>` with no scheme. The string names a server-side
session; the protected answer names the user in an `X-User-Id` header.
A bare-string payload cannot carry an `exp`: token.has-expiry fails this shape by design.
DEFECT=weak-key signs with the key "secret" (jwt-simple's README sample).
DEFECT=alg-none accepts an unsigned token whose header says alg "none"."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["WX_API_BASE"]
APPID = os.environ["WX_APPID"]
SECRET = os.environ["WX_SECRET"]
DEFECT = os.environ.get("DEFECT", "")
KEY = b"secret" if DEFECT == "weak-key" else os.environ["JWT_SECRET"].encode()
SESSIONS = {}  # session name -> openid
LOCK = threading.Lock()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(payload):
    head = b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def decode(token):
    """The payload of a token this backend signed; None otherwise."""
    try:
        head, body, mac = token.split(".")
        alg = json.loads(unb64(head)).get("alg")
        if alg == "none" and DEFECT == "alg-none":
            return json.loads(unb64(body))
        if alg != "HS256":
            return None
        want = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, unb64(mac)):
            return None
        return json.loads(unb64(body))
    except (ValueError, AttributeError, TypeError):
        return None


def code2session(code):
    query = urllib.parse.urlencode({"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"})
    with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=2) as answer:
        return json.loads(answer.read().decode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            return self.send(200, {"ok": True})
        payload = decode(self.headers.get("authorization") or "")
        with LOCK:
            openid = SESSIONS.get(payload) if isinstance(payload, str) else None
        if openid is None:
            return self.send(401, {"message": "invalid token"})
        if self.path == "/me":
            return self.send(200, {"ok": True}, [("X-User-Id", openid)])
        self.send(404, {"message": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/login":
            return self.send(404, {"message": "not found"})
        try:
            code = json.loads(raw or b"{}").get("code")
        except (ValueError, AttributeError):
            code = None
        if not isinstance(code, str) or not code.strip() or len(code) > 512:
            return self.send(400, {"message": "code required"})
        try:
            answer = code2session(code)
        except (OSError, ValueError):
            return self.send(502, {"message": "WeChat unavailable"})
        if not isinstance(answer, dict) or not answer.get("openid"):
            errcode = answer.get("errcode") if isinstance(answer, dict) else None
            return self.send(503 if errcode in (-1, 45011) else 401, {"message": "login failed"})
        name = "s-" + secrets.token_hex(16)
        with LOCK:
            SESSIONS[name] = answer["openid"]
        self.send(200, {"token": encode(name)})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("jwt-simple-style backend up", flush=True)
server.serve_forever()
