"""The command that regenerates the experiments:
python -m snippets.experiments run all."""

import argparse
import importlib
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from snippets.experiments import EXPERIMENTS
from snippets.experiments.results import (
    DOCS,
    atomic_write,
    canonical_json,
    draw_figures,
    load_results,
    reproduce,
    run_experiment,
    spread,
    spread_path,
    stale_reasons,
)

# Not an experiment: it executes the walkthrough of experiment 1.
NOTEBOOK = "notebook"
TARGETS = (*EXPERIMENTS, NOTEBOOK)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of at least 1, got {text!r}"
        )
    return int(text)


# --8<-- [start:cli]
def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m snippets.experiments",
        description="Re-run the experiments, write their files.",
    )
    commands = cli.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="train and write results files, figures, the notebook"
    )
    run.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help=f"any of {', '.join(TARGETS)}; or all",
    )
    run.add_argument(
        "--quick", action="store_true", help="few epochs, one seed: seconds"
    )
    run.add_argument(
        "--seeds",
        type=positive_int,
        help="number of seeds (default: the experiment's)",
    )
    run.add_argument(
        "--out",
        type=Path,
        help="docs folder to write into "
        "(default: docs/; with --quick, a new temporary folder)",
    )
    commands.add_parser(
        "check", help="exit 1 if a committed results file is stale"
    )
    verify = commands.add_parser(
        "verify",
        help="re-train the first seeds, compare with the committed runs",
    )
    verify.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"any of {', '.join(EXPERIMENTS)} (default: all)",
    )
    verify.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        help="how many of the first seeds to re-train (default: 1)",
    )
    draw = commands.add_parser(
        "figures",
        help="redraw the figures from the committed results (no training)",
    )
    draw.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"any of {', '.join(EXPERIMENTS)} (default: all)",
    )
    gaps = commands.add_parser(
        "spread",
        help="how far runs made elsewhere are from the committed ones",
    )
    gaps.add_argument(
        "other",
        type=Path,
        help="a docs folder written by `run --out` elsewhere",
    )
    gaps.add_argument(
        "--label",
        required=True,
        help="what differs, e.g. 'AVX2 vs DEFAULT'",
    )
    gaps.add_argument(
        "--out",
        type=Path,
        default=DOCS,
        help="docs folder holding the record",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        return check()
    if args.command == "spread":
        return record_spread(args.other, args.label, args.out)
    if args.command == "verify":
        return verify(args.names or list(EXPERIMENTS), args.seeds)
    if args.command == "figures":
        return redraw(args.names or list(EXPERIMENTS))
    names = (
        list(TARGETS)
        if "all" in args.names
        else list(dict.fromkeys(args.names))
    )
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        valid = ", ".join(TARGETS)
        print(
            f"unknown name(s): {', '.join(unknown)}; valid: {valid}, all",
            file=sys.stderr,
        )
        return 2
    out = args.out or DOCS
    if (
        args.quick and args.out is None
    ):  # quick numbers never replace real ones
        out = Path(tempfile.mkdtemp(prefix="experiments-quick-"))
        print(f"--quick: writing into {out}", file=sys.stderr)
    todo = [name for name in names if name != NOTEBOOK]
    # The notebook's kernel runs beside the experiments. It compares itself
    # with docs/'s overfitting results, so a run into docs/ writes them
    # first.
    into_docs = out.resolve() == DOCS
    first = [name for name in todo if name == "overfitting" and into_docs]
    with ThreadPoolExecutor(max_workers=1) as background:
        for name in first:
            run_one(name, args, out)
        walkthrough = None
        if NOTEBOOK in names:
            walkthrough = background.submit(run_notebook, out)
        for name in todo:
            if name not in first:
                run_one(name, args, out)
        if walkthrough:
            seconds = walkthrough.result()
            print(f"{NOTEBOOK}: {seconds:.1f} s", file=sys.stderr)
    return 0


def run_one(name: str, args: argparse.Namespace, out: Path) -> None:
    module = importlib.import_module(f"snippets.experiments.{name}")
    seconds = run_experiment(
        module, quick=args.quick, seeds=args.seeds, root=out
    )
    print(f"{name}: {seconds:.1f} s", file=sys.stderr)


def run_notebook(root: Path) -> float:
    from snippets.experiments.notebook import execute  # starts a kernel

    return execute(root=root)


# --8<-- [end:cli]


def unknown_experiments(names: list[str]) -> bool:
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        valid = ", ".join(EXPERIMENTS)
        print(
            f"unknown name(s): {', '.join(unknown)}; valid: {valid}",
            file=sys.stderr,
        )
    return bool(unknown)


def redraw(names: list[str]) -> int:
    """Each experiment's figures, drawn again from its committed results:
    drawing code is not in the source hash (results.DRAWING)."""
    if unknown_experiments(names):
        return 2
    for name in names:
        module = importlib.import_module(f"snippets.experiments.{name}")
        for path in draw_figures(module, load_results(name)):
            print(f"{name}: {path.relative_to(DOCS.parent)}")
    return 0


def verify(names: list[str], n_seeds: int) -> int:
    """Exit 1 unless each re-run is identical (on the same platform) or
    within the tolerance (elsewhere)."""
    if unknown_experiments(names):
        return 2
    failed = 0
    for name in names:
        found = reproduce(
            importlib.import_module(f"snippets.experiments.{name}"), n_seeds
        )
        where = (
            "same platform" if found["same_platform"] else "other platform"
        )
        outcome = (
            "identical"
            if found["identical"]
            else (
                f"accuracy within {found['acc_points']:.2f} points, "
                f"losses within {found['loss_nats']:.4f} nats"
            )
        )
        skipped = found.get("not_compared", [])
        # Measured to depend on the rounding: see results.reproducible.
        if skipped:
            outcome += (
                f"; {len(skipped)} runs at the edge of stability"
                " not compared"
            )
        print(
            f"{name}: {where} ({found['here']['cpu_capability']}, "
            "committed on "
            f"{(found['committed_on'] or {}).get('cpu_capability')}): "
            f"{outcome}"
            + (
                ""
                if found["ok"]
                else f" - NOT REPRODUCED {found['changed']}"
            )
        )
        failed += not found["ok"]
    return 1 if failed else 0


def record_spread(other: Path, label: str, root: Path) -> int:
    """Add one measured cross-platform spread to
    results/cross_platform.json."""
    path = spread_path(root)
    record = json.loads(path.read_text()) if path.is_file() else {}
    record[label] = spread(other, root)
    atomic_write(path, canonical_json(record).encode())
    for name, gaps in record[label].items():
        print(
            f"{label}, {name}: {gaps['acc_points']:.2f} accuracy points, "
            f"{gaps['loss_nats']:.4f} nats of a loss, {gaps['seeds']} seeds"
        )
    return 0


def check() -> int:
    stale = 0
    for name in EXPERIMENTS:
        reasons = stale_reasons(
            importlib.import_module(f"snippets.experiments.{name}")
        )
        print(f"{name}: {'; '.join(reasons) if reasons else 'up to date'}")
        stale += bool(reasons)
    return 1 if stale else 0


if __name__ == "__main__":
    if __package__:  # started as `python -m snippets.experiments ...`
        sys.exit(main())
    # Run as a plain file (tests/site runs every snippet so), there is no
    # command line to obey.
    print("run it as a module: python -m snippets.experiments run NAME")
    #> run it as a module: python -m snippets.experiments run NAME
