"""The command that regenerates the experiments: python -m snippets.experiments run all."""

import argparse
import importlib
import sys
from pathlib import Path

from snippets.experiments import EXPERIMENTS
from snippets.experiments.results import DOCS, run_experiment, stale_reasons

NOTEBOOK = "notebook"  # not an experiment: executes the walkthrough of experiment 1
TARGETS = (*EXPERIMENTS, NOTEBOOK)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


# --8<-- [start:cli]
def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m snippets.experiments",
                                  description="Re-run the experiments, write their files.")
    commands = cli.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train and write results files, figures, the notebook")
    run.add_argument("names", nargs="+", metavar="NAME", help=f"any of {', '.join(TARGETS)}; or all")
    run.add_argument("--quick", action="store_true", help="few epochs, one seed: seconds")
    run.add_argument("--seeds", type=positive_int, help="number of seeds (default: the experiment's)")
    run.add_argument("--out", type=Path, default=DOCS, help="docs folder to write into (default: docs/)")
    commands.add_parser("check", help="exit 1 if a committed results file is stale")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        return check()
    names = list(TARGETS) if "all" in args.names else list(dict.fromkeys(args.names))
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        valid = ", ".join(TARGETS)
        print(f"unknown name(s): {', '.join(unknown)}; valid: {valid}, all", file=sys.stderr)
        return 2
    for name in names:
        if name == NOTEBOOK:
            from snippets.experiments.notebook import execute  # starts a Jupyter kernel
            seconds = execute(root=args.out)
        else:
            module = importlib.import_module(f"snippets.experiments.{name}")
            seconds = run_experiment(module, quick=args.quick, seeds=args.seeds, root=args.out)
        print(f"{name}: {seconds:.1f} s", file=sys.stderr)
    return 0
# --8<-- [end:cli]


def check() -> int:
    stale = 0
    for name in EXPERIMENTS:
        reasons = stale_reasons(importlib.import_module(f"snippets.experiments.{name}"))
        print(f"{name}: {'; '.join(reasons) if reasons else 'up to date'}")
        stale += bool(reasons)
    return 1 if stale else 0


if __name__ == "__main__":
    if __package__:  # started as `python -m snippets.experiments ...`
        sys.exit(main())
    # Run as a plain file (tests/site runs every snippet so), there is no command line to obey.
    print("run it as a module: python -m snippets.experiments run NAME ... | all [--quick]")
    #> run it as a module: python -m snippets.experiments run NAME ... | all [--quick]
