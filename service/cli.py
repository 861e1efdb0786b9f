"""The ``haze`` command: the composition root of Haze Response."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _aqi(args: argparse.Namespace) -> int:
    from service import aqi_csv

    argv = [
        *(["--standard", args.standard] if args.standard else []),
        *([args.file] if args.file else []),
    ]
    return aqi_csv.main(argv)


def _replay(args: argparse.Namespace) -> int:
    from service import replay

    return replay.main(language=args.lang, width=args.width)


def _list_import(args: argparse.Namespace) -> int:
    from service import list_commands

    return list_commands.run_import(args.file, args.author)


def _list_export(args: argparse.Namespace) -> int:
    from service import list_commands

    return list_commands.run_export(args.revision, args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haze",
        description="Haze Response: heavy-pollution emergency response for a district bureau.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    aqi = commands.add_parser(
        "aqi",
        help="compute IAQI/AQI for a CSV of concentrations (HJ 633)",
        description="Read CSV concentrations (stdin when no FILE) and write CSV with IAQI and AQI.",
    )
    aqi.add_argument(
        "--standard", choices=["2012", "2026"], help="edition (default: in force today)"
    )
    aqi.add_argument("file", nargs="?", metavar="FILE", help="CSV file (default: stdin)")
    aqi.set_defaults(func=_aqi)

    replay = commands.add_parser(
        "replay",
        help="replay the sample Kundulun winter episode through the domain core",
        description="Replay the sample episode: forecasts, warnings, and what the list must cut.",
    )
    replay.add_argument("--lang", choices=["zh-CN", "en"], default="en", help="language of texts")
    replay.add_argument("--width", type=int, default=100, help="line width of the timeline")
    replay.set_defaults(func=_replay)

    list_cmd = commands.add_parser("list", help="import or export the emission-reduction list")
    list_commands = list_cmd.add_subparsers(dest="list_command", required=True, metavar="ACTION")
    importer = list_commands.add_parser(
        "import",
        help="read a CSV or XLSX file into a new draft revision, reporting every bad row",
    )
    importer.add_argument("file", metavar="FILE")
    importer.add_argument("--author", default="cli", help="recorded as the draft's author")
    importer.set_defaults(func=_list_import)
    exporter = list_commands.add_parser("export", help="write a revision as CSV")
    exporter.add_argument("--revision", type=int, help="revision number (default: published)")
    exporter.add_argument("-o", "--output", help="file to write (default: stdout)")
    exporter.set_defaults(func=_list_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
