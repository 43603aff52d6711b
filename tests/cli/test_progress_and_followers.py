"""Progress bars (tqdm) show on a terminal and stay quiet when piped; reading commands run beside a writer."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from qdrant_local import QdrantClient, models

from ..persistence.helpers import child_env
from .data import fill


def _folder(path) -> None:
    with QdrantClient(path=path) as client:
        fill(client, models, points=300)


def test_export_shows_a_tqdm_bar_on_a_terminal_and_nothing_when_piped(tmp_path) -> None:
    _folder(tmp_path / "db")
    command = [
        sys.executable,
        "-m",
        "qdrant_local",
        "export",
        str(tmp_path / "db"),
        "--out",
        str(tmp_path / "out.jsonl"),
    ]
    piped = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=120, check=True)
    assert piped.stderr.strip() == "exported dense: 300 points, mixed: 300 points, empty: 0 points"

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a fresh pty has 0 columns
    try:
        process = subprocess.Popen(command, env=child_env(), stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=120) == 0
    finally:
        os.close(controller)
    text = shown.decode("utf-8", "replace")
    assert "export dense: 100%" in text and "300/300" in text  # tqdm's bar, not a hand-made one


def test_info_export_and_migrate_read_a_folder_while_its_writer_holds_it(tmp_path) -> None:
    _folder(tmp_path / "db")
    with QdrantClient(path=tmp_path / "db") as writer:  # holds the lock for the whole test
        writer.upsert("dense", [models.PointStruct(id=999_999, vector=[1.0, 0, 0, 0, 0])])
        info = subprocess.run(
            [sys.executable, "-m", "qdrant_local", "info", str(tmp_path / "db")],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert info.returncode == 0, info.stderr
        assert "collection dense: 301 points" in info.stdout
        exported = subprocess.run(
            [sys.executable, "-m", "qdrant_local", "export", str(tmp_path / "db"), "--collection", "dense"],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert exported.returncode == 0, exported.stderr
        assert len(exported.stdout.splitlines()) == 302
