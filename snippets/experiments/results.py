"""Results files: canonical JSON, hashes of config and code, atomic
writes, and the seconds kept apart."""

import ast
import hashlib
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy
import sklearn
import torch
from tqdm import tqdm

from snippets.experiments.training import deterministic

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs"
# Code every experiment's numbers depend on, besides its own module.
SHARED_SOURCES = ("data.py", "models.py", "training.py", "stats.py")


def results_path(name: str, root: Path = DOCS) -> Path:
    return root / "experiments" / "results" / f"{name}.json"


def timing_path(name: str, root: Path = DOCS) -> Path:
    return root / "experiments" / "results" / f"{name}.timing.json"


def spread_path(root: Path = DOCS) -> Path:
    return root / "experiments" / "results" / "cross_platform.json"


def figure_path(filename: str, root: Path = DOCS) -> Path:
    return root / "assets" / "figures" / filename


# --8<-- [start:canonical]
def rounded(value):
    """Floats to 6 significant digits, non-finite ones to null: JSON
    that diffs cleanly."""
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    return value


def canonical_json(value) -> str:
    """Sorted keys, one layout, flat lists on one line: equal data give
    equal bytes."""

    def dump(item, depth: int) -> str:
        pad = " " * depth
        if isinstance(item, dict) and item:
            fields = [
                f"{pad} {json.dumps(key)}: {dump(item[key], depth + 1)}"
                for key in sorted(item)
            ]
            return "{\n" + ",\n".join(fields) + f"\n{pad}}}"
        if isinstance(item, list) and any(
            isinstance(inner, (dict, list)) for inner in item
        ):
            return (
                "[\n"
                + ",\n".join(
                    f"{pad} {dump(inner, depth + 1)}" for inner in item
                )
                + f"\n{pad}]"
            )
        # a number, a string, a flat list, {}
        return json.dumps(item, allow_nan=False)

    return dump(rounded(value), 0) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tree_text(node) -> str:
    """A syntax tree as text: node names and their fields, leaving out
    empty ones. Unlike ast.dump, the same on every Python from 3.11 (a
    newer one adds fields, empty in code that does not use them)."""
    if isinstance(node, ast.AST):
        fields = [
            f"{name}={tree_text(getattr(node, name))}"
            for name in node._fields
            if getattr(node, name, None) not in (None, [])
        ]
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(tree_text(item) for item in node) + "]"
    return repr(node)


def lesson_sources(path: Path) -> list[Path]:
    """The chapters' modules an experiment imports (an experiment that
    trains with the site's own mixup, say): their code is its code too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = sorted(
        {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("snippets.")
            and not node.module.startswith("snippets.experiments")
        }
    )
    root = HERE.parent.parent
    return [root / (name.replace(".", "/") + ".py") for name in names]


# Drawing is not training: a figure is drawn from the results file alone
# (a test draws each committed figure again from the committed results and
# compares the bytes), so the functions that only draw are left out of the
# hash, and a figure can be redrawn without training again.
DRAWING = ("draw", "figures")


def training_code(tree: ast.Module) -> ast.Module:
    """The module without its top-level drawing functions."""
    tree.body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.FunctionDef) and node.name in DRAWING)
    ]
    return tree


def source_sha256(module: ModuleType) -> str:
    """Hash of the code behind the numbers: what it does, not its layout.

    The code is the experiment's module, the shared modules and the
    chapters' modules it imports from. Each file counts as its syntax tree
    (tree_text, no line numbers), its drawing functions left out:
    comments, #> output lines, line breaks and parentheses leave the hash
    as it was, while any change to the code or to a docstring changes it.
    """
    digest = hashlib.sha256()
    shared = [HERE / name for name in SHARED_SOURCES]
    own = Path(module.__file__)
    for path in [own, *shared, *lesson_sources(own)]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        text = tree_text(training_code(tree))
        digest.update(f"# {path.name}\n{text}\n".encode())
    return digest.hexdigest()


# --8<-- [end:canonical]


# --8<-- [start:atomic]
def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside path, then rename it: a reader
    sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        # mkstemp makes the file private; these files are published
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # atomic on POSIX and Windows
    except BaseException:
        # interrupted, even by Ctrl-C: the previous file stays as it was
        os.unlink(temporary)
        raise


# --8<-- [end:atomic]


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
    }


# --8<-- [start:platform]
def platform_info() -> dict:
    """What decides the last bits of a training run, besides code and seed.

    One torch build picks its CPU kernels at start-up by what the CPU can do
    (AVX-512, AVX2 or the portable default; ATEN_CPU_CAPABILITY overrides
    it). Other kernels add floats in another order and round differently.
    """
    return {
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        # oneDNN (convolutions) and MKL (matrix products) choose their
        # own kernels by the hardware, whatever ATEN_CPU_CAPABILITY says.
        "cpu_isa": cpu_isa(),
        "cpu": cpu_model(),
    }


def cpu_isa() -> str:
    if torch.cpu._is_avx512_supported():
        return "avx512"
    return "avx2" if torch.cpu._is_avx2_supported() else "baseline"


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's model name (Linux), else what platform knows."""
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def same_platform(doc: dict) -> bool:
    """True when this process would run the kernels that made doc."""
    return doc.get("platform") == platform_info()


# --8<-- [end:platform]


def document(module: ModuleType, config: dict, runs: dict) -> dict:
    """What a results file holds; the summary is computed from the
    rounded runs, as they are stored."""
    runs = rounded(runs)
    return {
        "experiment": module.NAME,
        "config": config,
        "config_sha256": sha256(canonical_json(config)),
        "source_sha256": source_sha256(module),
        "versions": versions(),
        "platform": platform_info(),
        "runs": runs,
        "summary": rounded(module.summarize(config, runs)),
    }


# --8<-- [start:run]
def run_experiment(
    module: ModuleType,
    *,
    quick: bool = False,
    seeds: int | None = None,
    root: Path = DOCS,
) -> float:
    """Train, then write the results file, its timing sidecar and its
    figures; return the seconds it took."""
    config = module.config(quick=quick, seeds=seeds)
    with (
        deterministic(),
        tqdm(
            total=module.total_epochs(config),
            desc=module.NAME,
            unit="epoch",
        ) as bar,
    ):
        start, cpu_start = time.perf_counter(), time.process_time()
        runs = module.run(config, progress=bar.update)
        seconds, cpu_seconds = (
            time.perf_counter() - start,
            time.process_time() - cpu_start,
        )
    doc = document(module, config, runs)
    atomic_write(
        results_path(module.NAME, root), canonical_json(doc).encode()
    )
    # Seconds differ between two identical runs, so they live in a file
    # of their own. On a machine shared with other work, wall-clock time
    # overstates the cost; CPU time does not.
    timing = {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "config_sha256": doc["config_sha256"],
    }
    atomic_write(
        timing_path(module.NAME, root), canonical_json(timing).encode()
    )
    draw_figures(module, doc, root)
    return seconds


# --8<-- [end:run]


def draw_figures(
    module: ModuleType, doc: dict, root: Path = DOCS
) -> list[Path]:
    paths = []
    for filename, svg in module.figures(doc):
        paths.append(figure_path(filename, root))
        atomic_write(paths[-1], svg)
    return paths


def load_results(name: str, root: Path = DOCS) -> dict:
    return json.loads(results_path(name, root).read_text(encoding="utf-8"))


def load_seconds(
    name: str, root: Path = DOCS, key: str = "seconds"
) -> float:
    return json.loads(timing_path(name, root).read_text(encoding="utf-8"))[
        key
    ]


def variant_facts(variants: dict) -> dict:
    """Summary numbers as facts named <variant>_<number>, and each
    variant's accuracy gain."""
    found = {
        f"{variant}_{key}": value
        for variant, numbers in variants.items()
        for key, value in numbers.items()
    }
    for variant, numbers in variants.items():
        found[f"{variant}_minus_none_acc"] = (
            numbers["val_acc_mean"] - variants["none"]["val_acc_mean"]
        )
    return found


# --8<-- [start:tolerance]
# How far a re-run on another CPU kind may land from the committed runs.
# Measured, not guessed: see "Reproducible where" on the experiments page.
TOLERANCE = {"acc_points": 8.0, "loss_nats": 0.15}


def run_gaps(committed: dict, rerun: dict) -> dict:
    """Largest differences between two sets of runs, history by history."""
    per_variant = {}
    for variant, histories in rerun.items():
        acc, loss, changed = 0.0, 0.0, []  # accuracy points, nats of a loss
        for seed, (old, new) in enumerate(
            zip(committed[variant], histories)
        ):
            if old["diverged_at"] != new["diverged_at"]:
                changed.append(f"{variant} seed {seed}: diverged_at")
                continue  # histories of unequal length: nothing to compare
            for key in (
                "train_acc",
                "val_acc",
                "test_acc",
                "test_acc_at_best",
            ):
                if (
                    old.get(key) is None
                    or new.get(key) is None
                    or not old[key]
                ):
                    continue  # a diverged run, or a file older than the key
                a, b = numpy.ravel(old[key]), numpy.ravel(new[key])
                acc = max(acc, 100 * float(numpy.abs(a - b).max()))
            for key in ("train_loss", "val_loss"):
                a, b = numpy.array(old[key]), numpy.array(new[key])
                if a.size:  # empty when a run diverged in its first epoch
                    loss = max(loss, float(numpy.abs(a - b).max()))
        per_variant[variant] = {
            "acc_points": acc,
            "loss_nats": loss,
            "changed": changed,
        }
    return {
        "acc_points": max(
            (g["acc_points"] for g in per_variant.values()), default=0.0
        ),
        "loss_nats": max(
            (g["loss_nats"] for g in per_variant.values()), default=0.0
        ),
        "changed": [c for g in per_variant.values() for c in g["changed"]],
        "per_variant": per_variant,
    }


def within_tolerance(gaps: dict, tolerance: dict = TOLERANCE) -> bool:
    return not gaps["changed"] and all(
        gaps[key] <= limit for key, limit in tolerance.items()
    )


def reproducible(name: str, root: Path = DOCS) -> set | None:
    """Variants whose runs every measured change of platform left within the
    tolerance. The rest sit at the edge of stability, where the rounding
    decides whether a run survives: they are compared by summary only."""
    record = (
        json.loads(spread_path(root).read_text())
        if spread_path(root).is_file()
        else {}
    )
    measured = [
        by_name[name]["per_variant"]
        for by_name in record.values()
        if name in by_name
    ]
    if not measured:
        # nothing measured: every variant is held to the tolerance
        return None
    return {
        variant
        for variant in measured[0]
        if all(
            within_tolerance(m[variant]) for m in measured if variant in m
        )
    }


# --8<-- [end:tolerance]


def spread(other: Path, root: Path = DOCS, names=None) -> dict:
    """The gaps between the runs in root and the same seeds run
    elsewhere (other)."""
    from snippets.experiments import EXPERIMENTS

    out = {}
    for name in names or EXPERIMENTS:
        a, b = load_results(name, root), load_results(name, other)
        n = min(len(a["config"]["seeds"]), len(b["config"]["seeds"]))
        gaps = run_gaps(
            first_seeds(a["runs"], n), first_seeds(b["runs"], n)
        )
        out[name] = {
            **gaps,
            "seeds": n,
            "platforms": [a.get("platform"), b.get("platform")],
        }
        if len(a["config"]["seeds"]) == len(b["config"]["seeds"]):
            old, new = (
                dict(verdicts(a["summary"])),
                dict(verdicts(b["summary"])),
            )
            out[name]["verdicts_changed"] = sorted(
                " / ".join(path)
                for path in old
                if new.get(path) != old[path]
            )
    return out


def verdicts(value, path=()):
    """Every generated verdict in a summary, by where it sits: the words
    the pages print."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "verdict":
                yield path, item
            else:
                yield from verdicts(item, (*path, key))


def first_seeds(runs: dict, n: int) -> dict:
    return {variant: histories[:n] for variant, histories in runs.items()}


def rerun(module: ModuleType, n_seeds: int = 1, root: Path = DOCS) -> dict:
    """Train the committed config again for its first n_seeds seeds."""
    doc = load_results(module.NAME, root)
    config = {**doc["config"], "seeds": doc["config"]["seeds"][:n_seeds]}
    with deterministic():
        return rounded(module.run(config))


def reproduce(
    module: ModuleType, n_seeds: int = 1, root: Path = DOCS
) -> dict:
    """Re-run the first seeds: identical on the committed platform,
    close elsewhere."""
    doc = load_results(module.NAME, root)
    committed = first_seeds(doc["runs"], n_seeds)
    new = rerun(module, n_seeds, root)
    same = same_platform(doc)
    kept = reproducible(module.NAME, root)
    if same or kept is None:
        kept = set(new)
    gaps = run_gaps(
        {v: committed[v] for v in kept}, {v: new[v] for v in kept}
    )
    ok = new == committed if same else within_tolerance(gaps)
    return {
        **gaps,
        "same_platform": same,
        "identical": new == committed,
        "ok": ok,
        "not_compared": sorted(set(new) - kept),
        "committed_on": doc.get("platform"),
        "here": platform_info(),
    }


def stale_reasons(module: ModuleType, root: Path = DOCS) -> list[str]:
    """Why the committed results of module are not what its current code
    and config produce."""
    doc, config = load_results(module.NAME, root), module.config()
    reasons = []
    if doc["config"] != config or doc["config_sha256"] != sha256(
        canonical_json(config)
    ):
        reasons.append("config changed")
    if doc["source_sha256"] != source_sha256(module):
        reasons.append("code changed")
    return reasons


def spread_facts(root: Path = DOCS) -> dict:
    """The largest measured gaps of each comparison of platforms, the
    tolerance, and the runs at the edge of stability (gaps beyond the
    tolerance), kept apart."""
    record = json.loads(spread_path(root).read_text(encoding="utf-8"))
    found = {
        "tolerance_acc": TOLERANCE["acc_points"],
        "tolerance_loss": TOLERANCE["loss_nats"],
    }
    edge = {}
    for label, per_experiment in record.items():
        stable = [
            g
            for name, by in per_experiment.items()
            for v, g in by["per_variant"].items()
            if v in (reproducible(name, root) or set())
        ]
        found[f"spread_{label}_acc"] = max(g["acc_points"] for g in stable)
        found[f"spread_{label}_loss"] = max(g["loss_nats"] for g in stable)
        found[f"spread_{label}_seeds"] = sum(
            g["seeds"] for g in per_experiment.values()
        )
        for name, by in per_experiment.items():
            for variant, g in by["per_variant"].items():
                if variant not in (reproducible(name, root) or set()):
                    edge.setdefault(f"{name}: {variant}", []).append(
                        g["acc_points"]
                    )
    found["edge_runs"] = sorted(edge)
    found["edge_count"] = len(edge)
    found["edge_acc"] = max(
        (max(gaps) for gaps in edge.values()), default=0.0
    )
    return found


def facts() -> dict:
    from snippets.experiments import EXPERIMENTS

    return {
        **spread_facts(),
        "total_minutes": sum(load_seconds(name) for name in EXPERIMENTS)
        / 60,
        "total_cpu_minutes": sum(
            load_seconds(name, key="cpu_seconds") for name in EXPERIMENTS
        )
        / 60,
        **{
            f"{name}_cpu_seconds": load_seconds(name, key="cpu_seconds")
            for name in EXPERIMENTS
        },
    }


def main() -> None:
    # --8<-- [start:demo]
    print(
        canonical_json(
            {"val_loss": [2.718281828, float("nan")], "epochs": 3}
        ),
        end="",
    )
    #> {
    #>  "epochs": 3,
    #>  "val_loss": [2.71828, null]
    #> }
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
