"""Concurrent users against ``benefits serve`` (waitress) on 127.0.0.1, with and without a login flood.

    .venv/bin/python bench/serve.py [--requests 2000] [--concurrency 20]

Starts ``benefits.dashboards.app.serve`` in its own process over the tests' fixture store with a
users file (so every request pays the password check, cached after the first), then sends
``--requests`` page-router callbacks (``/_dash-update-component``, the request a page view makes),
cycling over the pages, from ``--concurrency`` threads with the right password; then the same again
while one more client, from 127.0.0.2, sends wrong passwords for another name as fast as it can
(a login flood, answered 429 after the fifth). Prints per run: requests, errors (any status but 200), requests per
second, p50 and p95 in ms, and the flood's answers by status.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benefits import users  # noqa: E402 - after the sys.path line
from tests import dashboard_data as dd  # noqa: E402 - after the sys.path line

PASSWORD = "correct horse battery"
PAGES = [
    ("/", ""),
    ("/benefit/it-opex", ""),
    ("/register", ""),
    ("/data-quality", ""),
    ("/map", ""),
    ("/initiative/cloud-platform", ""),
]
SERVE = (
    "import sys, pathlib; from benefits.dashboards.app import serve; "
    "from benefits.dashboards.auth import AuthSettings; "
    "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], auth=AuthSettings(users_file=pathlib.Path(sys.argv[3])))"
)


def router_body(pathname: str, search: str) -> bytes:
    """The request Dash's page router sends for a URL."""
    return json.dumps(
        {
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        }
    ).encode()


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def post(port: int, body: bytes, authorization: str, source: str = "127.0.0.1") -> tuple[int, float]:
    """Status and wall seconds of one callback request on a new connection from ``source``."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        connection.request(
            "POST",
            "/_dash-update-component",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": authorization},
        )
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    except OSError:
        return 0, time.perf_counter() - start
    finally:
        connection.close()


def load(port: int, requests: int, concurrency: int) -> dict[str, float]:
    """``requests`` page views from ``concurrency`` threads: count, errors, rate, p50 and p95 (ms)."""
    search = f"?as_of={dd.AS_OF.isoformat()}"
    bodies = [router_body(path, search) for path, _ in PAGES]
    authorization = basic("ada", PASSWORD)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda i: post(port, bodies[i % len(bodies)], authorization), range(requests)))
    wall = time.perf_counter() - start
    times = sorted(1000 * seconds for _, seconds in results)
    return {
        "requests": requests,
        "errors": sum(status != 200 for status, _ in results),
        "per_second": requests / wall,
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def flood(port: int, stop: threading.Event, answers: Counter[int]) -> None:
    """Wrong passwords for another name from another address (127.0.0.2), one after the other, until ``stop``."""
    body = router_body("/", "")
    while not stop.is_set():
        answers[post(port, body, basic("mallory", "guess"), "127.0.0.2")[0]] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        url = dd.build_store(folder)
        users_file = folder / "users.yaml"
        users.save_users(users_file, {"ada": users.UserEntry("ada", "finance", users.hash_password(PASSWORD))})
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-c", SERVE, str(port), url, str(users_file)], cwd=ROOT)
        try:
            while post(port, router_body("/", ""), basic("ada", PASSWORD))[0] == 0:
                time.sleep(0.2)
            load(port, 2 * len(PAGES), 1)  # warm: the snapshot and the password check are cached
            print("plain:", load(port, args.requests, args.concurrency))
            stop, answers = threading.Event(), Counter[int]()
            flooder = threading.Thread(target=flood, args=(port, stop, answers))
            flooder.start()
            try:
                print("during a login flood:", load(port, args.requests, args.concurrency))
            finally:
                stop.set()
                flooder.join()
            print("flood answers by status:", dict(answers))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
