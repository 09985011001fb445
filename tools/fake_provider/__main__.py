"""``python -m tools.fake_provider --port N``: serve the fake provider until interrupted."""

from __future__ import annotations

import argparse

from tools.fake_provider.server import FakeProviderServer


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m tools.fake_provider", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--page-size", type=int, default=None, help="page model listings")
    parser.add_argument("--max-threads", type=int, default=1024, help="connections served at once")
    args = parser.parse_args(argv)
    server = FakeProviderServer(port=args.port, max_threads=args.max_threads)
    server.page_size = args.page_size
    server.start()
    print(
        f"fake provider listening on {server.url} (formats: {', '.join(server.formats)})",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
