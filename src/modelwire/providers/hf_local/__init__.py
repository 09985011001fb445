"""In-process Hugging Face ``transformers`` models (provider type ``huggingface_local``).

Modules, each with one job, none importing ``torch`` or ``transformers`` at import time:

``architecture``  which family a checkpoint belongs to (from its ``config.json``), and which
                  families modelwire can run;
``params``        the layered generation parameters and the one function that merges them;
``loader``        loading a tokenizer and model once, on the configured device and dtype;
``prompts``       turning chat messages (and tools) into model input (chat template or plain
                  text);
``tool_calls``    reading the tool calls a model wrote out of its text, whole or streamed;
``engine``        the per-model worker thread: serialised or batched ``generate`` calls and
                  streaming through a ``TextIteratorStreamer``;
``provider``      ``HuggingFaceLocalChatModel``, the ``ChatModel`` the factory builds.
"""

from __future__ import annotations

__all__: list[str] = []
