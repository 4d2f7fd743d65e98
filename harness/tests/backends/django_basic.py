"""A mini-program login backend in the Django REST framework style, in Python's standard library:
POST /api/login {"code"} trades the code with WeChat, get_or_create()s a user named after the
openid and answers a DRF-style token (`Authorization: Token <key>`). DRF's default
authentication classes also accept HTTP Basic, so the user's password matters.

DEFECT=openid-password reproduces a real bug: create_user(openid, password=openid), which lets
anyone who learns an openid log in as that user with Basic openid:openid. The clean version sets
an unusable password, as Django's create_user(username) without a password does."""
import base64
import json
import os
import secrets
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["WX_API_BASE"]
APPID = os.environ["WX_APPID"]
SECRET = os.environ["WX_SECRET"]
DEFECT = os.environ.get("DEFECT", "")
USERS = {}   # username (openid) -> {"password": str | None}
TOKENS = {}  # token key -> username


def code2session(code):
    query = urllib.parse.urlencode(
        {"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"}
    )
    with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=2) as r:
        return json.loads(r.read())


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme == "Token":
            return TOKENS.get(value.strip())
        if scheme == "Basic":
            try:
                name, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except Exception:
                return None
            user = USERS.get(name)
            if user and user["password"] is not None and user["password"] == password:
                return name
        return None

    def do_GET(self):
        if self.path == "/ready":
            return self.answer(200, {"ok": True})
        if self.path.split("?")[0] == "/api/me":
            name = self.user()
            if name is None:
                return self.answer(401, {"detail": "Authentication credentials were not provided."})
            return self.answer(200, {"username": name})
        self.answer(404, {"detail": "Not found."})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/api/login":
            return self.answer(404, {"detail": "Not found."})
        try:
            code = json.loads(raw or b"{}").get("code")
        except ValueError:
            return self.answer(400, {"detail": "JSON parse error"})
        if not isinstance(code, str) or not code.strip():
            return self.answer(400, {"code": ["This field is required."]})
        try:
            session = code2session(code)
        except Exception:
            return self.answer(502, {"detail": "WeChat is unavailable"})
        openid = session.get("openid")
        if not openid:
            return self.answer(400 if session.get("errcode") not in (-1, 45011) else 503, {"detail": "login failed"})
        if openid not in USERS:
            USERS[openid] = {"password": openid if DEFECT == "openid-password" else None}
        key = secrets.token_hex(20)
        TOKENS[key] = openid
        self.answer(200, {"token": key})


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
