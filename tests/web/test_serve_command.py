"""`threadbridge serve` and `export --out` as an operator runs them: separate processes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.test_cli import SEED_EXPORT, clean_environment, threadbridge


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def imported(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "site.db")}
    result = threadbridge("import", str(SEED_EXPORT), "--no-threads", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return env


def test_serve_answers_from_the_database_read_only_and_stops_on_sigterm(tmp_path):
    env = imported(tmp_path)
    database = tmp_path / "site.db"
    before = database.read_bytes()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**clean_environment(), **env, "WEB_RATE_LIMIT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.1)
        assert (status, json.loads(body)["status"]) == (200, "ok")
        status, body = get(f"http://127.0.0.1:{port}/api/v1/posts")
        assert status == 200
        assert json.loads(body)["posts"][0]["comment_count"] == 24
        status, _ = get(f"http://127.0.0.1:{port}/posts/1")
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"on http://127.0.0.1:{port}" in out
    assert "Traceback" not in out + err
    assert database.read_bytes() == before  # a reader wrote nothing


def test_serve_without_a_database_says_so(tmp_path):
    result = threadbridge("serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 1
    assert "there is no database at" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "threadbridge.db").exists()


def test_serve_on_a_taken_port_says_so(tmp_path):
    env = imported(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = threadbridge("serve", "--port", str(port), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_out_writes_the_public_site(tmp_path):
    env = imported(tmp_path)
    result = threadbridge("export", "--out", "public", "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "exported 1 post(s)" in result.stdout
    page = json.loads((tmp_path / "public" / "posts" / "1.json").read_text())
    assert page["post"]["comment_count"] == 24
    again = threadbridge("export", "--out", "public", "--format", "json", cwd=tmp_path, env=env)
    assert "0 file(s) written, 2 unchanged" in again.stdout
    (tmp_path / "file").write_text("")
    blocked = threadbridge("export", "--out", "file/x", cwd=tmp_path, env=env)
    assert blocked.returncode == 1 and "cannot write the export" in blocked.stderr
    assert "Traceback" not in blocked.stderr
