"""`concert-platform policy [--templates DIR|FILE] [--format text|json|junit|sarif] [--output FILE]`.

Exit codes: 0 no findings, 1 findings, 2 usage errors (found before any tool runs), 3 a check
could not run (reported as a check error; the report is still complete)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from concert_platform.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--templates",
        type=Path,
        default=None,
        help="directory (searched recursively) or one file of CloudFormation templates "
        "(default: the platform's templates/, see --project)",
    )
    parser.add_argument("--format", choices=("text", "json", "junit", "sarif"), default="text")
    parser.add_argument("--output", type=Path, help="write the report to this file instead of stdout")


def check_output_path(output: Path) -> None:
    """Refuse an output path that cannot be written before the (long) run starts."""
    folder = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not folder.is_dir():
        raise UsageError(f"--output {output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise UsageError(f"--output {output} cannot be written")


def run(args: argparse.Namespace) -> int:
    from concert_platform.policy.formats import junit, print_text, sarif
    from concert_platform.policy.runner import run_policy, to_json

    if args.output:
        check_output_path(args.output)
    templates = args.templates
    if templates is None:
        from concert_platform.manifest import project_root

        templates = project_root() / "templates"
        if templates.is_relative_to(Path.cwd().resolve()):  # reported as before: templates/...
            templates = templates.relative_to(Path.cwd().resolve())
    report = run_policy(templates)
    if args.format == "text" and not args.output:
        print_text(report, Console(highlight=False))
    else:
        text = {"json": to_json, "junit": junit, "sarif": sarif}.get(args.format, to_json)(report)
        if args.output:
            try:
                args.output.write_text(text)
            except OSError as exc:
                raise UsageError(f"--output {args.output} cannot be written: {exc.strerror}") from None
        else:
            print(text)
    return report.exit_code
