"""A clock probe in Python's standard library: GET /now answers time.time() after a 20 ms
time.sleep, so a test can see the wall clock jump under libfaketime and sleep still working."""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/ready":
            body = b"ok"
        elif self.path == "/now":
            before = time.monotonic()
            time.sleep(0.02)
            body = json.dumps({"now": int(time.time()), "timer_ms": int((time.monotonic() - before) * 1000)}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
