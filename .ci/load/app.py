#!/usr/bin/env python3
"""A tenant application for the load scripts, on 127.0.0.1 only.

Prints its port on the first line of stdout, then serves until killed:
  POST /dial    -> <Dial><Client>bob</Client></Dial>  (a call to bob's phone)
  POST /garbage -> 200 text/plain that is no markup    (the call fails)
  POST /status  -> 204                                  (status callbacks)
Every request is counted per path in the file named by the first argument,
rewritten as "path count" lines on each request.
"""
import http.server
import sys
import threading

counts = {}
lock = threading.Lock()
count_file = sys.argv[1] if len(sys.argv) > 1 else None

DIAL = (b'<?xml version="1.0" encoding="UTF-8"?>'
        b"<Response><Dial timeout=\"10\"><Client>bob</Client></Dial></Response>")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            if count_file:
                with open(count_file, "w") as f:
                    for path, n in sorted(counts.items()):
                        f.write(f"{path} {n}\n")
        if self.path == "/dial":
            self.reply(200, "text/xml", DIAL)
        elif self.path == "/garbage":
            self.reply(200, "text/plain", b"this is not markup")
        else:
            self.reply(204, None, b"")

    do_GET = do_POST

    def reply(self, code, ctype, body):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
