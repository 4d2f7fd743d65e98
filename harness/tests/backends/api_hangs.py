"""A backend whose health endpoint keeps answering while its API hangs: every request other
than GET /health is read and never answered. A readiness probe says it is fine; only the requests
themselves show it is not. Usage: python3 api_hangs.py PORT"""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        self.hang()

    def hang(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        # Holds the connection until the client gives up (then the write fails).
        while True:
            time.sleep(1)
            try:
                self.connection.getpeername()
            except OSError:
                return

    do_POST = do_PUT = do_DELETE = do_PATCH = hang

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
