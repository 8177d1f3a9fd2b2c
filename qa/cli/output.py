"""What the CLI prints: article text shown as text, never as terminal commands.

Article text, titles, quotes and file names are printed as they are stored, except control
characters other than newline and tab, which are shown as escapes (``\\x1b``): an article holding
an escape sequence cannot set the terminal's title, write the clipboard (OSC 52), move the
cursor or clear the screen. ``--json`` output escapes them as JSON does (``\\u001b``), the 8-bit
ones (C1, U+0080 to U+009F) included.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

# C0 controls but tab and newline, DEL, and the C1 controls (8-bit CSI, OSC, ...).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` with each control character but newline and tab written as ``\\xNN``."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def echo(message: object = "", **options: Any) -> None:
    """``click.echo`` of ``message`` made safe for the terminal."""
    click.echo(terminal_text(str(message)), **options)


def secho(message: object = "", **options: Any) -> None:
    """``click.secho``: our own colours, around text made safe for the terminal."""
    click.secho(terminal_text(str(message)), **options)


def json_text(data: Any) -> str:
    """Indented JSON in which no character reaches the terminal as a control character."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # json.dumps escapes C0 controls itself; the C1 range it leaves as is (valid JSON either way).
    return re.sub("[\x7f-\x9f]", lambda match: f"\\u{ord(match.group()):04x}", text)
