"""WeChat Official Account protocol pieces, free of Rasa so that each can be tested alone.

- :mod:`~connectors.wechat_mp.crypto`: signatures and the AES message encryption of safe mode;
- :mod:`~connectors.wechat_mp.messages`: parsing callback XML and writing passive replies;
- :mod:`~connectors.wechat_mp.state`: the shared store (in process, or Redis at scale);
- :mod:`~connectors.wechat_mp.retries`: one Rasa turn and one answer per message, however often
  WeChat retries it;
- :mod:`~connectors.wechat_mp.client`: the customer-service message API and its access token;
- :mod:`~connectors.wechat_mp.endpoint`: the callback URL's behaviour, tying them together.

The Rasa input channel built from them is :class:`connectors.wechat.WeChatInput`.
"""
