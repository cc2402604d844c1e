"""Chat with the running assistant from the terminal, over Rasa's REST channel."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def send(
    rasa_url: str,
    sender: str,
    message: str,
    timeout: float = 60.0,
    metadata: dict[str, Any] | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Send one message through the REST channel (``REST_CHANNEL_TOKEN`` as ``token``) and
    return the bot's messages."""
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps(body).encode("utf-8"),
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        replies: list[dict[str, Any]] = json.loads(response.read().decode("utf-8"))
        return replies


def chat_in_terminal(rasa_url: str, token: str) -> None:
    """Read lines, print replies; a number picks one of the last message's buttons."""
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("Type a message (中文 or English); a number picks a button; Ctrl-D quits.")
    buttons: list[dict[str, Any]] = []
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            print()
            return
        if not line:
            continue
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            line = buttons[int(line) - 1]["payload"]
        buttons = []
        try:
            replies = send(rasa_url, sender, line, token=token)
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
            wait = error.headers.get("Retry-After", "a few")
            print(f"bot> (not answered: the assistant is restarting; send it again in {wait} s)")
            continue
        for message in replies:
            if message.get("text"):
                print(f"bot> {message['text']}")
            for button in message.get("buttons") or []:
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")
