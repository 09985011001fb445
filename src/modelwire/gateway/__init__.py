"""The gateway: OpenAI- and Anthropic-compatible HTTP APIs in front of the registry, with
virtual keys, every request recorded in the ledger (``modelwire serve``, ``modelwire keys``).

Needs the ``gateway`` extra (``pip install 'modelwire[gateway]'``: Starlette and uvicorn).
Import ``modelwire.gateway.app.create_app`` for the ASGI app, ``modelwire.gateway.keys.KeyStore``
for the keys.
"""
