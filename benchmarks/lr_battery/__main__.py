"""``python -m benchmarks.lr_battery``: run the battery (what the cache lacks) and report."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from . import peers  # noqa: E402  (registers the peers)
from .cache import Cache  # noqa: E402
from .methods import METHODS  # noqa: E402
from .problems import by_name  # noqa: E402
from .report import collect, format_markdown, format_problem, format_summary, summarize  # noqa: E402
from .runner import STAGES, run  # noqa: E402


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.lr_battery",
                                description=__doc__.splitlines()[0])
    p.add_argument("--cifar", default=None, help="CIFAR-10 archive (its problems skipped if unset)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", default=None, help="comma-separated problem names")
    p.add_argument("--stages", default=",".join(STAGES),
                   help=f"comma-separated, of {','.join(STAGES)}; '' reports the cache only")
    p.add_argument("--methods", default=None, help="comma-separated method names (default all)")
    p.add_argument("--kt-budget", type=float, default=peers.KT_EQUAL_BUDGET,
                   help="kerastuner-equal's search budget in full-fit units")
    p.add_argument("--plugin", default=None,
                   help="comma-separated modules to import first (they register methods)")
    p.add_argument("--cache", default=None, help="JSON file of finished runs (read and extended)")
    p.add_argument("--json", default=None, help="write every result here (curves included)")
    p.add_argument("--plot", default=None, help="write the figure here (PNG)")
    p.add_argument("--markdown", default=None,
                   help="write the docs' tables here: overall rows, then each problem's "
                        "seeds'-mean regret of the --methods rows")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    peers.register_kerastuner_equal(args.kt_budget)
    for module in (args.plugin or "").split(","):
        if module:
            importlib.import_module(module)
    problems = [p for p in by_name(args.only) if args.cifar or not p.needs_cifar]
    seeds = [int(s) for s in args.seeds.split(",")]
    names = list(METHODS) if args.methods is None else args.methods.split(",")
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}; registered: {list(METHODS)}")
    methods = [METHODS[n] for n in names]
    stages = [s for s in args.stages.split(",") if s]
    if any(s not in STAGES for s in stages):
        raise SystemExit(f"--stages: {stages}; each must be one of {STAGES}")
    tmp = None
    if args.cache is None and stages:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
            tmp.write("{}")  # the children's cache for this run
        args.cache = tmp.name
    cache = Cache(args.cache)
    if not args.child:
        print(f"# lr_battery: {len(problems)} problems x seeds {seeds}; methods {names}; "
              f"stages {stages}; python {sys.version.split()[0]}, keras {keras.__version__}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    t0 = time.perf_counter()
    # the parent keeps no model: each (problem, stage) with work trains in a child process
    run(problems, seeds, stages, methods, args, cache, isolate=not args.child)
    out = {}
    if not args.no_report:
        out = report(cache, problems, seeds, methods, args)
    if not args.child:
        print(f"\n# total {time.perf_counter() - t0:.0f} s (load {os.getloadavg()[0]:.1f})")
    if tmp is not None:
        os.unlink(tmp.name)
    return out


def report(cache, problems, seeds, methods, args) -> dict:
    results = collect(cache, problems, seeds, methods)
    summary = summarize(results)
    for name, prob in results.items():
        print("\n" + format_problem(name, prob))
    print(format_summary(summary), flush=True)
    out = {"meta": {"seeds": seeds, "methods": [m.key for m in methods],
                    "kt_budget": args.kt_budget, "keras": keras.__version__},
           "problems": results, "summary": summary}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=None, allow_nan=True))
    if args.markdown:
        rows = [m.name for m in methods]  # each method's own row, in --methods order
        Path(args.markdown).write_text(format_markdown(results, summary, rows))
    if args.plot and results:
        from .plot import plot_battery

        plot_battery(results, summary, args.plot)
    return out


if __name__ == "__main__":
    main()
