"""`concert-platform policy [--templates DIR] [--format text|json|junit|sarif] [--output FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--templates",
        type=Path,
        default=Path("templates"),
        help="directory (or one file) of CloudFormation templates",
    )
    parser.add_argument("--format", choices=("text", "json", "junit", "sarif"), default="text")
    parser.add_argument("--output", type=Path, help="write the report to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from concert_platform.policy.formats import junit, print_text, sarif
    from concert_platform.policy.runner import run_policy, to_json

    report = run_policy(args.templates)
    if args.format == "text" and not args.output:
        print_text(report, Console(highlight=False))
    else:
        text = {"json": to_json, "junit": junit, "sarif": sarif}.get(args.format, to_json)(report)
        if args.output:
            args.output.write_text(text)
        else:
            print(text)
    return 1 if report.failed else 0
