"""Bad input on the command line: one clear line naming the option (or variable)
and the reason, a non-zero status, never a traceback. A bad ``serve`` option
exits 2 before anything starts, or 3 (cannot start) once it has: never a
status that ``--workers`` would start again and again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from servers import ROOT, free_port


def connectfour(
    *args: str, env: dict[str, str] | None = None, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connectfour", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL if stdin is None else stdin,
    )  # fmt: skip


def refused(run: subprocess.CompletedProcess[str], status: int, *named: str) -> None:
    assert run.returncode == status, run.stderr
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert all(text in last for text in named), last


@pytest.mark.parametrize(
    "option, value, reason",
    [
        ("--port", "abc", "not a whole number"),
        ("--max-frame", "-1", "1 or more"),
        ("--rate", "0", "more than zero"),
        ("--rate", "nan", "finite"),
        ("--burst", "0", "1 or more"),
        ("--grace", "nan", "finite"),
        ("--expire-after", "0", "more than zero"),
        ("--keep-finished", "inf", "finite"),
        ("--search-budget", "1e20", "at most 1e+09"),
        ("--solver-searches", "-1", "zero or more"),
        ("--workers", "99999999999", "at most"),
        ("--log-level", "bogus", "not a log level"),
        ("--db", "", "empty path"),
        ("--db", "/", "is a directory"),
        ("--allowed-origin", "not a url", "not an origin"),
        ("--allowed-origin", "https://example.com/path", "not an origin"),
    ],
)
def test_a_bad_serve_option_is_refused_before_anything_starts(option, value, reason):
    run = connectfour("serve", "--memory", "--port", "0", option, value)
    refused(run, 2, f"argument {option}:", reason)


@pytest.mark.parametrize(
    "variable, value, named",
    [
        ("PORT", "abc", "argument --port: not a whole number"),
        ("LOG_LEVEL", "bogus", "argument --log-level: not a log level"),
        (
            "CONNECTFOUR_ALLOWED_ORIGINS",
            "https://ok.example,not an origin",
            "$CONNECTFOUR_ALLOWED_ORIGINS: not an origin",
        ),
        ("PROMETHEUS_MULTIPROC_DIR", "/proc/nope", "$PROMETHEUS_MULTIPROC_DIR: /proc/nope is not a directory"),
    ],
)
def test_a_bad_environment_variable_of_serve_is_refused_before_anything_starts(variable, value, named):
    port = () if variable == "PORT" else ("--port", "0")
    run = connectfour("serve", "--memory", *port, env={variable: value})
    refused(run, 2, named)


@pytest.mark.parametrize("command", [["solve"], ["play", "--url", "notaurl"]])
def test_another_command_does_not_read_serve_s_port(command):
    run = connectfour(*command, env={"PORT": "abc"}, stdin=None)
    assert "Traceback" not in run.stderr and "--port" not in run.stderr


def test_memory_and_redis_with_workers_are_refused_by_the_supervisor_not_by_each_worker():
    run = connectfour(
        "serve", "--memory", "--redis", "redis://127.0.0.1:1/0", "--workers", "2", "--port", str(free_port())
    )
    refused(run, 2, "--memory and --redis")
    assert "starting it again" not in run.stderr


@pytest.mark.parametrize("host", ["bad host!", "192.0.2.1"])
def test_an_address_the_server_cannot_listen_on_is_refused_as_cannot_start(host):
    run = connectfour("serve", "--memory", "--host", host, "--port", "0")
    refused(run, 3, "--host/--port: cannot listen on")


@pytest.mark.parametrize(
    "args, named",
    [
        (["--url", "notaurl"], "argument --url: 'notaurl' is not a WebSocket URL"),
        (["--url", "ws://[::1"], "argument --url:"),
        (["--url", "ws://127.0.0.1:99999/ws"], "argument --url:"),
        (["--join", ""], "argument --join: an empty link"),
        (["--retries", "-1"], "argument --retries: must be zero or more"),
        (["--watch", "http://[::1/?watch=a"], "--watch: Invalid IPv6 URL"),
        (["--name", "\u0410da"], "argument --name: 'Аda': a name must use the letters of one script"),
        (["--name", "\u3164\u3164"], "argument --name:"),
    ],
)
def test_a_bad_play_option_is_refused(args, named):
    refused(connectfour("play", *args), 2, named)


def test_play_with_an_http_url_and_nothing_listening_says_it_cannot_reach_it():
    port = free_port()
    refused(connectfour("play", "--url", f"http://127.0.0.1:{port}/ws"), 1, f"cannot reach ws://127.0.0.1:{port}/ws")


@pytest.mark.parametrize("value", ["inf", "1e20"])
def test_solve_refuses_a_budget_no_search_could_keep(value):
    refused(connectfour("solve", "--budget", value), 2, "argument --budget:")


def test_solve_with_standard_input_closed_says_so():
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "solve"], cwd=ROOT, capture_output=True, text=True, timeout=30,
        stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    refused(run, 2, "no standard input")


@pytest.mark.parametrize(
    "args, named",
    [
        (["--url", "notaurl"], "argument --url: 'notaurl' is not a ws:// URL"),
        (["--url", "ws://[::1"], "argument --url:"),
        (["--spawn", "memory", "--games", "0"], "argument --games: must be 1 or more"),
        (["--spawn", "memory", "--duration", "nan"], "argument --duration: must be a finite number"),
        (["--spawn", "memory", "--client-cpu", "-1"], "argument --client-cpu: must be zero or more"),
        (["--url", "ws://127.0.0.1:1/ws", "--server-pid", "-1"], "argument --server-pid"),
    ],
)
def test_a_bad_bench_option_is_refused(args, named):
    refused(connectfour("bench", *args), 2, named)


def test_bench_names_a_server_pid_that_is_no_process():
    refused(
        connectfour("bench", "--url", "ws://127.0.0.1:1/ws", "--server-pid", "999999999"), 2, "--server-pid: no process"
    )


@pytest.mark.parametrize("scenario", ["games", "lobby"])
def test_bench_against_nothing_listening_says_it_cannot_reach_it(scenario):
    port = free_port()
    refused(connectfour("bench", scenario, "--url", f"ws://127.0.0.1:{port}/ws", "--quiet"), 1, "--url: cannot reach")
