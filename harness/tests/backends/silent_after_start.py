"""A backend that answers its first request (the harness's readiness probe) and then stops
answering: it still accepts connections and reads requests, but never writes a byte. The
harness must give up on it quickly instead of waiting out every timeout of every case.
With PID_FILE set, it writes its pid there (to prove it is stopped), and PID_FILE.held once
it holds its first request.
Usage: python3 silent_after_start.py PORT"""

import os
import socket
import sys
import threading
import time

if os.environ.get("PID_FILE"):
    with open(os.environ["PID_FILE"], "w") as f:
        f.write(str(os.getpid()))
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(128)
held = []  # connections kept open, never answered


def hold(conn):
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


first, _ = listener.accept()
first.recv(65536)
first.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
first.close()
while True:
    conn, _ = listener.accept()
    if os.environ.get("PID_FILE") and not held:
        # The first request it holds: a case is in progress.
        open(os.environ["PID_FILE"] + ".held", "w").close()
    held.append(conn)
    threading.Thread(target=hold, args=(conn,), daemon=True).start()
    time.sleep(0)
