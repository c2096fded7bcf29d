"""A tiny HTTP mirror of saved sites, for crawl tests and local runs.

The server answers for ANY hostname from a tree laid out like ``wget -x``
saves it (``ROOT/<host>/<path>``). It accepts both proxy-form requests
(``GET http://host/path HTTP/1.1``, what Scrapy sends when ``http_proxy``
points at it) and origin-form requests (``GET /path`` + ``Host:`` header).

Special answers live in ``ROOT/<host>/_routes.json``, keyed by path+query
exactly as requested::

    {"/_redirect?siteId=44&columnId=19673&articleId=579438":
         {"status": 302, "location": "http://xwzx.cumt.edu.cn/.../page.htm"},
     "/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid=2":
         {"file": "files/x.pdf",
          "headers": {"Content-Type": "application/octet-stream"}},
     "/flaky.htm": {"file": "flaky.htm", "fail_times": 2},
     "/broken.htm": {"always_status": 500}}

Route keys: ``status``, ``location``, ``file`` (relative to the host dir),
``body`` (a string sent as UTF-8), ``headers``, ``fail_times`` (answer 503
that many times, then normally), ``always_status`` (always answer that
status with a small HTML body), ``delay`` (seconds to wait before answering),
``truncate`` (send half the body under a longer Content-Length, then
close) and ``chunked`` (send ``file`` in chunked transfer encoding, with no
Content-Length). The file is re-read when it changes.

Run ``python -m cumt_archive.mirror ROOT --port 8080`` and point a crawler's
``http_proxy`` at the printed URL.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["MirrorServer", "main"]

_HTML_EXTENSIONS = {".htm", ".html", ".psp", ".jsp", ".shtml"}
_NOT_FOUND_BODY = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
    "</head><body><h1>404 Not Found</h1><p>The requested URL was not found on this "
    "mirror.</p></body></html>"
)


def _status_body(status: int, reason: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{status} {reason}</title>"
        f"</head><body><h1>{status} {reason}</h1></body></html>"
    ).encode("utf-8")


def _content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _HTML_EXTENSIONS:
        return "text/html; charset=utf-8"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _safe_join(base: Path, relative: str) -> Path | None:
    """Join a URL path below base, or None when it would leave base."""
    decoded = unquote(relative)
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    candidate = base.joinpath(*parts) if parts else base
    try:
        resolved = candidate.resolve()
        base_resolved = base.resolve()
    except OSError:
        return None
    if resolved != base_resolved and base_resolved not in resolved.parents:
        return None
    return candidate


class _Handler(BaseHTTPRequestHandler):
    server: _MirrorHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "cumt-mirror/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(send_body=True)

    # -- helpers ---------------------------------------------------------
    def _target(self) -> tuple[str, str]:
        """Return (host, path+query) of this request."""
        raw = self.path
        if raw.startswith(("http://", "https://")):
            parts = urlsplit(raw)
            host = parts.hostname or ""
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            return host.lower(), path
        host_header = self.headers.get("Host", "")
        host = host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
        path = raw.split("#", 1)[0] or "/"
        return host.strip().lower(), path

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        send_body: bool = True,
    ) -> None:
        self.send_response(status)
        merged = {"Content-Type": "text/html; charset=utf-8"}
        if headers:
            # case-insensitive override of the default Content-Type
            for key, value in headers.items():
                if key.lower() == "content-type":
                    merged.pop("Content-Type", None)
                merged[key] = value
        for key, value in merged.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _serve(self, send_body: bool) -> None:
        host, path_query = self._target()
        self.server.record(f"http://{host}{path_query}", self.headers.get("User-Agent", ""))
        root = self.server.root
        host_dir = _safe_join(root, host) if host else None
        if host_dir is None or not host or "/" in host or host.startswith("."):
            self._send(404, _NOT_FOUND_BODY.encode("utf-8"), send_body=send_body)
            return

        route = self.server.route(host, path_query)
        if route is not None:
            self._serve_route(host, host_dir, path_query, route, send_body)
            return

        path = path_query.split("?", 1)[0]
        if path.endswith("/"):
            path += "index.htm"
        file_path = _safe_join(host_dir, path)
        if file_path is None or not file_path.is_file() or file_path.name == "_routes.json":
            self._send(404, _NOT_FOUND_BODY.encode("utf-8"), send_body=send_body)
            return
        self._send(200, file_path.read_bytes(), {"Content-Type": _content_type(file_path)}, send_body)

    def _serve_route(
        self,
        host: str,
        host_dir: Path,
        key: str,
        route: dict[str, Any],
        send_body: bool,
    ) -> None:
        if "delay" in route:
            time.sleep(float(route["delay"]))
        if "always_status" in route:
            status = int(route["always_status"])
            self._send(status, _status_body(status, "Error"), send_body=send_body)
            return
        fail_times = int(route.get("fail_times", 0))
        if fail_times and self.server.count_hit(host, key) <= fail_times:
            self._send(503, _status_body(503, "Service Unavailable"), send_body=send_body)
            return

        status = int(route.get("status", 200))
        headers: dict[str, str] = {str(k): str(v) for k, v in route.get("headers", {}).items()}
        if "location" in route:
            headers["Location"] = str(route["location"])
        body = b""
        if "file" in route:
            file_path = _safe_join(host_dir, str(route["file"]))
            if file_path is None or not file_path.is_file():
                self._send(404, _NOT_FOUND_BODY.encode("utf-8"), send_body=send_body)
                return
            body = file_path.read_bytes()
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = _content_type(file_path)
        elif "body" in route:
            body = str(route["body"]).encode("utf-8")
        elif 300 <= status < 400:
            body = _status_body(status, "Found")
        if route.get("chunked") and "file" in route:
            # No Content-Length: the body in chunked transfer encoding, its length unknown until the end.
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if send_body:
                view = memoryview(body)
                for start in range(0, len(view), 1 << 20):
                    piece = view[start:start + (1 << 20)]
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            return
        if route.get("truncate"):
            # Promise more bytes than are sent, then hang up: a body cut off in transit.
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) * 2 + 100))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, body, headers, send_body)


class _MirrorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops connections under a crawl's concurrency

    def __init__(self, address: tuple[str, int], root: Path) -> None:
        super().__init__(address, _Handler)
        self.root = root
        self.requests: list[str] = []
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], int] = {}
        self._routes: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a crawl cancelling a timed-out or oversized download)
        is normal here; anything else is still printed, as socketserver does."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)

    def record(self, url: str, user_agent: str = "") -> None:
        with self._lock:
            self.requests.append(url)
            self.user_agents.add(user_agent)

    def count_hit(self, host: str, key: str) -> int:
        with self._lock:
            n = self._hits.get((host, key), 0) + 1
            self._hits[(host, key)] = n
            return n

    def route(self, host: str, key: str) -> dict[str, Any] | None:
        host_dir = _safe_join(self.root, host)
        routes_file = host_dir / "_routes.json" if host_dir else None
        mtime = routes_file.stat().st_mtime_ns if routes_file is not None and routes_file.is_file() else -1
        with self._lock:
            cached = self._routes.get(host)
            if cached is None or cached[0] != mtime:
                # Re-read when the file changes, so a test can mend or break the server between runs.
                routes = json.loads(routes_file.read_text(encoding="utf-8")) if mtime != -1 and routes_file else {}
                cached = (mtime, routes)
                self._routes[host] = cached
        return cached[1].get(key)


class MirrorServer:
    """Serve ``root/<host>/<path>`` for any host, as a proxy or origin server."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
        self._httpd = _MirrorHTTPServer((host, port), self.root)
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[str]:
        """Absolute URLs requested so far, in order."""
        return self._httpd.requests

    @property
    def user_agents(self) -> set[str]:
        """Every User-Agent header seen so far."""
        return self._httpd.user_agents

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def proxy_url(self) -> str:
        host = str(self._httpd.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="cumt-mirror", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> MirrorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cumt_archive.mirror",
        description="Serve a wget -x style site tree for any hostname (proxy or origin form).",
    )
    parser.add_argument("root", type=Path, help="directory holding <host>/<path> files")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080, 0 = any)")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: {args.root} is not a directory", file=sys.stderr)
        return 2
    server = MirrorServer(args.root, host=args.host, port=args.port)
    print(server.proxy_url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
