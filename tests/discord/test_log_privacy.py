"""discord.py's log lines lose interaction tokens, webhook tokens and names, whatever their shape."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.discord import log_privacy


@pytest.mark.parametrize("line, secret", [
    ("WebSocket Event: {'t': 'INTERACTION_CREATE', 'd': {'token': 'aW50ZXJhY3Rpb246MTIz', 'id': '1'}}", "aW50ZXJhY3Rpb246MTIz"),
    (json.dumps({"d": {"token": "aW50ZXJhY3Rpb246MTIz"}}), "aW50ZXJhY3Rpb246MTIz"),
    ("POST https://discord.com/api/v10/interactions/123/aW50ZXJhY3Rpb246MTIz/callback has returned 204", "aW50ZXJhY3Rpb246MTIz"),
    ("PATCH https://discord.com/api/v10/webhooks/456/aW50ZXJhY3Rpb246MTIz/messages/@original", "aW50ZXJhY3Rpb246MTIz"),
    ("{'member': {'user': {'id': '4301', 'username': 'alex.doe', 'global_name': 'Alex Doe'}, 'nick': 'Al'}}", "alex.doe"),
    ("{'member': {'user': {'id': '4301', 'username': 'x', 'global_name': 'Alex Doe'}}}", "Alex Doe"),
    ("ignoring <Member id=4301 name='alex.doe' global_name='Alex Doe' bot=False nick=None>", "alex.doe"),
])
def test_tokens_and_names_are_cut_from_any_line(line: str, secret: str, caplog: pytest.LogCaptureFixture) -> None:
    log_privacy.install()
    with caplog.at_level(logging.DEBUG, logger="discord.gateway"):
        logging.getLogger("discord.gateway").debug("%s", line)
    assert secret not in caplog.text and log_privacy.REDACTED in caplog.text
