"""``python -m bot COMMAND``: the application's command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.run import run_assistant
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the Rasa and action servers")
    run.add_argument("--model", type=Path, help="trained Rasa model (default: RASA_MODEL)")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "run":
        model = args.model or settings.rasa_model
        if model is None:
            parser.error("give --model or set RASA_MODEL")
        return run_assistant(settings, model)
    return 2


if __name__ == "__main__":
    sys.exit(main())
