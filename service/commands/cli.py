"""The ``haze`` command: the composition root of Haze Response."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _aqi(args: argparse.Namespace) -> int:
    from service.commands import aqi_csv

    argv = [
        *(["--standard", args.standard] if args.standard else []),
        *([args.file] if args.file else []),
    ]
    return aqi_csv.main(argv)


def _replay(args: argparse.Namespace) -> int:
    if args.offline:
        from service.commands import replay

        return replay.main(language=args.lang, width=args.width)
    import os

    from service.commands import replay_live

    token = args.token or os.environ.get("HAZE_TOKEN", "")
    if not token:
        print("haze replay: give --token or set HAZE_TOKEN (an operator token)", file=sys.stderr)
        return 2
    url = args.url or f"http://{_settings().host}:{_settings().port}"
    return replay_live.main(url, token, day=args.day, language=args.lang)


def _settings(**overrides: object):
    from service.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


class MissingDatabase(Exception):
    """The embedded database does not exist yet (a command would create an empty one)."""


def _database(command: str):
    """The settings of a command that uses the database, after saying which one on stderr.

    Commands other than ``haze serve`` refuse to create the embedded SQLite file: an empty
    new database is never what ``haze list export`` run from the wrong place wanted.
    """
    settings = _settings()
    print(f"database: {settings.database_shown}", file=sys.stderr)
    if settings.is_embedded and not settings.embedded_path.exists():
        print(
            f"haze {command}: no database at {settings.embedded_path}; start `haze serve` "
            "once to create it, or set HAZE_DATA_DIR or HAZE_DATABASE_URL",
            file=sys.stderr,
        )
        raise MissingDatabase(command)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from service.commands.serve import serve

    settings = _settings(host=args.host, port=args.port)
    print(f"database: {settings.database_shown}", file=sys.stderr)
    return serve(settings, consumers=not args.no_consumers, log_level=args.log_level)


def _topics_create(args: argparse.Namespace) -> int:
    from service.commands.stream import topics_create

    return topics_create(_settings())


def _gateway(args: argparse.Namespace) -> int:
    from service.commands.stream import gateway

    return gateway(_settings())


def _consume(args: argparse.Namespace) -> int:
    from service.commands.stream import consume

    return consume(_settings(), args.which)


def _token_create(args: argparse.Namespace) -> int:
    from service.commands.serve import create_token_command

    settings = _database("token create")
    return create_token_command(
        settings, args.role, args.station or [], args.enterprise, args.label, args.expires_at
    )


def _token_list(args: argparse.Namespace) -> int:
    from service.commands import tokens as token_commands

    return token_commands.run_list(_database("token list"), args.all)


def _token_revoke(args: argparse.Namespace) -> int:
    from service.commands import tokens as token_commands

    return token_commands.run_revoke(_database("token revoke"), args.token_id)


def _list_import(args: argparse.Namespace) -> int:
    from service.commands import lists as list_commands

    return list_commands.run_import(_database("list import"), args.file, args.author)


def _list_export(args: argparse.Namespace) -> int:
    from service.commands import lists as list_commands

    return list_commands.run_export(_database("list export"), args.revision, args.output)


def _list_diff(args: argparse.Namespace) -> int:
    from service.commands import lists as list_commands

    return list_commands.run_diff(_database("list diff"), args.old, args.new)


def _list_publish(args: argparse.Namespace) -> int:
    from service.commands import lists as list_commands

    return list_commands.run_publish(_database("list publish"), args.revision, args.author)


def _region_import(args: argparse.Namespace) -> int:
    from service.commands import regions as region_commands

    return region_commands.run_import(_database("region import"), args.file, args.author)


def _hj212_check(args: argparse.Namespace) -> int:
    from service.commands import hj212

    try:
        return hj212.check(args.file)
    except OSError as exc:
        print(f"haze hj212 check: {exc}", file=sys.stderr)
        return 2


def _hj212_send(args: argparse.Namespace) -> int:
    from service.commands import hj212

    port = args.to.rpartition(":")[2]
    sources = [args.file is not None, args.generate is not None, args.sample is not None]
    if not port.isdigit() or sum(sources) != 1:
        print(
            "haze hj212 send: give --to HOST:PORT and one of FILE, --generate N, --sample MINUTES",
            file=sys.stderr,
        )
        return 2
    mns, passwords = args.mn or [], args.pw or []
    if args.generate is not None and (not mns or len(passwords) not in (1, len(mns))):
        print("haze hj212 send: --generate needs --mn (repeat) and one --pw or one per --mn",
              file=sys.stderr)  # fmt: skip
        return 2
    loggers = list(
        zip(mns, passwords * len(mns) if len(passwords) == 1 else passwords, strict=True)
    )
    try:
        sample = None if args.sample is None else (args.sample, args.level)
        return hj212.send_command(
            args.to, args.file, args.generate, loggers, args.timeout, sample=sample
        )
    except OSError as exc:
        print(f"haze hj212 send: {exc}", file=sys.stderr)
        return 2


def _aware_datetime(value: str):
    import datetime as dt

    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. +08:00")
    return moment


class _Help(argparse.HelpFormatter):
    """Adds "(default: …)" to every option with a default its help does not already name."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return action.help
        if not action.option_strings and action.nargs not in ("?", "*"):
            return action.help
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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

    serve = commands.add_parser(
        "serve",
        help="run the service (API and, unless --no-consumers, the consumers)",
        description="Migrate the database, load the sample list on first start, print a new "
        "operator token once if none exists, and serve the API.",
    )
    serve.add_argument("--host", help="bind address (default: HAZE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: HAZE_PORT or 8000)")
    serve.add_argument(
        "--no-consumers", action="store_true", help="API only; consumers run elsewhere"
    )
    serve.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning"], help="log level"
    )
    serve.set_defaults(func=_serve)

    topics = commands.add_parser("topics", help="Kafka topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    topic_commands.add_parser(
        "create", help="create the topics (names, partitions from the settings)"
    ).set_defaults(func=_topics_create)

    consume = commands.add_parser(
        "consume",
        help="run consumers alone (Kafka): readings, forecasts, notify, telemetry or all",
        description="Consume from Kafka until SIGTERM; scale out with the topic partitions.",
    )
    consume.add_argument(
        "which",
        choices=["readings", "forecasts", "notify", "telemetry", "all"],
        nargs="?",
        default="all",
        help="which consumers",
    )
    consume.set_defaults(func=_consume)

    gateway = commands.add_parser(
        "gateway",
        help="run the HJ 212 gateway alone (Kafka), for data loggers",
        description="Accept HJ 212 data loggers on HAZE_GATEWAY_PORT (default 9212) until "
        "SIGTERM and publish what they send to Kafka (docs/hj212.md).",
    )
    gateway.set_defaults(func=_gateway)

    token = commands.add_parser(
        "token",
        help="create, list or revoke bearer tokens",
        description="Bearer tokens in the database (HAZE_DATABASE_URL, or the embedded "
        "default under HAZE_DATA_DIR); the database used is printed on stderr.",
    )
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    creator = token_commands.add_parser(
        "create", help="create a token and print its secret (shown once)"
    )
    creator.add_argument("--role", required=True, choices=["operator", "station", "enterprise"])
    creator.add_argument(
        "--station", action="append", metavar="ID", help="a station it may post for (repeat)"
    )
    creator.add_argument("--enterprise", metavar="ID", help="the enterprise's credit code")
    creator.add_argument("--label", default="", help="who holds it (default: none)")
    creator.add_argument(
        "--expires-at",
        type=_aware_datetime,
        metavar="ISO8601",
        help="expiry with offset, e.g. 2027-01-01T00:00:00+08:00",
    )
    creator.set_defaults(func=_token_create)
    lister = token_commands.add_parser(
        "list", help="list tokens (id, role, holder, label, times); secrets are never shown"
    )
    lister.add_argument("--all", action="store_true", help="include revoked tokens")
    lister.set_defaults(func=_token_list)
    revoker = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoker.add_argument("token_id", metavar="ID", help="the token's id (from `haze token list`)")
    revoker.set_defaults(func=_token_revoke)

    replay = commands.add_parser(
        "replay",
        help="push the sample Kundulun winter episode through the running service",
        description="Post the sample episode's readings and forecasts to a running service, "
        "moved in time so that its day --day is today, printing each decision; with "
        "--offline, replay it through the domain core alone and print the timeline.",
    )
    replay.add_argument(
        "episode",
        nargs="?",
        default="kundulun",
        choices=["kundulun"],
        metavar="EPISODE",
        help="sample episode",
    )
    replay.add_argument("--url", help="service URL (default: http://HAZE_HOST:HAZE_PORT)")
    replay.add_argument("--token", help="operator token (default: $HAZE_TOKEN)")
    replay.add_argument("--day", type=int, default=7, help="episode day that is today (1-14)")
    replay.add_argument("--offline", action="store_true", help="domain core only, no service")
    replay.add_argument("--lang", choices=["zh-CN", "en"], default="en", help="language of texts")
    replay.add_argument("--width", type=int, default=100, help="line width of the timeline")
    replay.set_defaults(func=_replay)

    list_cmd = commands.add_parser(
        "list",
        help="import, export, diff or publish the emission-reduction list",
        description="The list's revisions in the database (HAZE_DATABASE_URL, or the embedded "
        "default under HAZE_DATA_DIR); the database used is printed on stderr.",
    )
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
    differ = list_commands.add_parser(
        "diff", help="what revision NEW changes against revision OLD (+ added, - removed, ~)"
    )
    differ.add_argument("old", type=int, metavar="OLD")
    differ.add_argument("new", type=int, metavar="NEW")
    differ.set_defaults(func=_list_diff)
    publisher = list_commands.add_parser(
        "publish", help="validate and publish a draft revision, reporting every error"
    )
    publisher.add_argument("revision", type=int, metavar="N")
    publisher.add_argument("--author", default="cli", help="recorded as the publisher")
    publisher.set_defaults(func=_list_publish)

    region_cmd = commands.add_parser(
        "region",
        help="import regions and their outlines",
        description="Regions and GeoJSON outlines in the database (as for `haze list`).",
    )
    region_commands = region_cmd.add_subparsers(
        dest="region_command", required=True, metavar="ACTION"
    )
    region_importer = region_commands.add_parser(
        "import",
        help='store a regions file ({"regions": [...]}, each with an optional "outline") or a '
        "GeoJSON FeatureCollection of outlines (properties.region_id)",
    )
    region_importer.add_argument("file", metavar="FILE")
    region_importer.add_argument("--author", default="cli", help="recorded in the audit log")
    region_importer.set_defaults(func=_region_import)
    hj212 = commands.add_parser(
        "hj212",
        help="check HJ 212 packets offline or send them to a gateway",
        description="HJ 212 data-logger packets (docs/hj212.md).",
    )
    hj212_commands = hj212.add_subparsers(dest="hj212_command", required=True, metavar="ACTION")
    checker = hj212_commands.add_parser(
        "check",
        help="parse a file of packets; one JSON line each; exit 1 if any is invalid",
    )
    checker.add_argument("file", metavar="FILE", help="packets, one per line ('-': stdin)")
    checker.set_defaults(func=_hj212_check)
    sender = hj212_commands.add_parser(
        "send",
        help="replay a file's packets (or --generate N) to a gateway, waiting for each 9014; "
        "exit 1 if any went unanswered or was refused",
    )
    sender.add_argument("--to", required=True, metavar="HOST:PORT", help="the gateway")
    sender.add_argument("file", nargs="?", metavar="FILE", help="packets ('-': stdin)")
    sender.add_argument("--generate", type=int, metavar="N", help="send N minute-data packets")
    sender.add_argument("--mn", action="append", help="a logger's MN for --generate (repeat)")
    sender.add_argument("--pw", action="append", help="its password (one for all, or one each)")
    sender.add_argument(
        "--sample",
        type=int,
        metavar="MINUTES",
        help="the sample's meters and CEMS: the last MINUTES minutes of minute data (its three "
        "cheating plants included; docs/compliance-sample.md)",
    )
    sender.add_argument(
        "--level",
        choices=["none", "yellow", "orange", "red"],
        default="orange",
        help="the warning the sample's plants obey (or not) with --sample",
    )
    sender.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a 9014")
    sender.set_defaults(func=_hj212_send)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MissingDatabase:
        return 2


if __name__ == "__main__":
    sys.exit(main())
