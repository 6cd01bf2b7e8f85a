"""Time every functional op against its basicsr counterpart; write benchmarks/results/ops.json.

Usage::

    python -m benchmarks.run_ops                 # all groups
    python -m benchmarks.run_ops --only jpeg     # one group
    python -m benchmarks.run_ops --rounds 3      # quicker, noisier

Each ``benchmarks/cases_<group>.py`` module exposes ``cases() -> list[Case]``.
"""

from __future__ import annotations

import argparse
import importlib

from benchmarks._common import compare, install_reference_shim, markdown_table, write_results

GROUPS = ["kernels", "filter", "resize", "noise", "jpeg", "sharpen"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=GROUPS, help="groups to run (default: all)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default="ops", help="result file stem under benchmarks/results")
    args = parser.parse_args(argv)
    install_reference_shim()
    records = []
    for group in args.only or GROUPS:
        module = importlib.import_module(f"benchmarks.cases_{group}")
        for case in module.cases():
            record = compare(case, rounds=args.rounds, threads=args.threads)
            records.append(record)
            print(markdown_table([record]).splitlines()[-1], flush=True)
    path = write_results(args.output, records)
    print(markdown_table(records))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
