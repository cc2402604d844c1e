"""Rasa's socket.io channel, telling the widget which agent wrote a message.

Agents' replies reach the customer through Rasa's HTTP API (``output_channel=latest``), which
asks the channel for its output channel; ours adds the agent's display name (the
``agent_name`` the delivery action puts on the message) to what the widget receives:
``{"text": ..., "agent": "Nina"}``. Everything else is Rasa's own ``SocketIOInput``, under the
same channel name, so events still say ``input_channel: socketio``.

credentials.yml::

    connectors.socketio.AgentAwareSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput


class AgentAwareSocketIOOutput(SocketIOOutput):
    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        agent = kwargs.get("agent_name")
        for part in text.strip().split("\n\n"):
            message = {"text": part}
            if agent:
                message["agent"] = str(agent)
            await self._send_message(recipient_id, message)


class AgentAwareSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return AgentAwareSocketIOOutput(self.sio, self.bot_message_evt)
