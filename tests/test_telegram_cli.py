"""`salescoach bot`: clear refusal without a token; a real process in polling and webhook mode."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import PROJECT_ROOT
from tests.fakes.telegram_server import FakeTelegramServer
from tests.telegram_fixtures import telegram_server  # noqa: F401  (pytest fixture)

CLEAN = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "OPENAI_BASE_URL", "OPENAI_API_KEY")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env
    return monkeypatch


def test_without_a_token_it_says_what_to_set_and_fails(clean_env: pytest.MonkeyPatch, capsys) -> None:
    assert main(["bot"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "@BotFather" in err and "salescoach chat" in err


def test_a_bad_webhook_secret_is_refused(clean_env: pytest.MonkeyPatch, capsys) -> None:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    clean_env.setenv("WEBHOOK_URL", "https://example.com/hook")
    clean_env.setenv("WEBHOOK_SECRET", "has spaces!")
    assert main(["bot"]) == 2
    assert "WEBHOOK_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize("body", [b'{"ok": true}', b"<html>nginx</html>"])
def test_an_address_that_is_not_a_bot_api_gets_a_clear_message(clean_env, capsys, knowledge_base, body: bytes) -> None:
    import http.server
    import threading

    class NotBotApi(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotBotApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        clean_env.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
        clean_env.setenv("TELEGRAM_API_BASE_URL", url)
        clean_env.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))
        assert main(["bot"]) == 2
        err = capsys.readouterr().err
        assert "TELEGRAM_API_BASE_URL" in err and url in err and "Traceback" not in err
    finally:
        server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_bot(server: FakeTelegramServer, data_dir: Path, tmp_path: Path, **env: str) -> subprocess.Popen:
    environment = {
        **{k: v for k, v in os.environ.items() if k not in CLEAN},
        "PYTHONPATH": str(PROJECT_ROOT),
        "ANONYMIZED_TELEMETRY": "False",
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "SALESCOACH_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "DEBUG",  # even at DEBUG the token must not reach the log
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "bot"], cwd=tmp_path, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop_bot(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return process.returncode, output


async def wait_listening(port: int, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
def indexed_data_dir(knowledge_base, tmp_path: Path) -> Path:
    """A copy of the session's index, so the bot process starts without re-embedding the corpus."""
    target = tmp_path / "data"
    shutil.copytree(knowledge_base.settings.data_dir, target)
    return target


@pytest.mark.slow
async def test_the_bot_process_polls_answers_and_stops_cleanly(
    telegram_server: FakeTelegramServer, indexed_data_dir: Path, tmp_path: Path
) -> None:
    server = telegram_server
    process = start_bot(server, indexed_data_dir, tmp_path)
    try:
        await server.wait_for_calls("getUpdates", timeout=120)
        server.send_text(11, "客户收了礼品，为什么关系没有提升？")
        answer = await server.wait_for_text(11, "来源：", timeout=30)
        assert "《我给客户送了礼品，为什么感觉关系没有提升呢》" in answer.text
    finally:
        code, output = stop_bot(process)
    assert code == 0, output[-2000:]
    assert "已启动（长轮询）" in output and "telegram_bot_token=***" in output
    assert server.token not in output and server.token.split(":")[1] not in output


@pytest.mark.slow
async def test_the_bot_process_serves_a_webhook_with_a_secret(
    telegram_server: FakeTelegramServer, indexed_data_dir: Path, tmp_path: Path
) -> None:
    server = telegram_server
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    process = start_bot(
        server, indexed_data_dir, tmp_path,
        WEBHOOK_URL=url, WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET="s3cret-Token_1",
    )  # fmt: skip
    try:
        [registered] = await server.wait_for_calls("setWebhook", timeout=120)
        assert registered.params["url"] == url and registered.params["secret_token"] == "s3cret-Token_1"
        server.send_command(12, "/start")
        [update] = server.take_updates()
        body = json.dumps(update).encode()

        def post(secret: str) -> int:
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        await wait_listening(port)  # PTB may register the webhook just before its server listens
        assert post("wrong-secret") == 403  # a forged update is rejected
        assert post("s3cret-Token_1") == 200
        welcome = await server.wait_for_text(12, "我是客情教练", timeout=30)
        assert welcome.buttons
    finally:
        code, output = stop_bot(process)
    assert code == 0, output[-2000:]
    assert server.token not in output
