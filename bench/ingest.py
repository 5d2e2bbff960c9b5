"""Ingest benchmark (issue 02): CSV -> validation -> store, against a plain Core executemany.

Both sides read the same CSV of ``--rows`` observations (default 1,000,000: 200 metrics of a
generated register, 5,000 daily periods each) into a fresh SQLite file of the project's schema,
each in its own child process so that peak memory is measured per side:

- ``raw``: ``csv.reader`` -> typed dicts -> one ``insert(observations)`` executemany, one transaction,
  the rows in file order (``--raw-order sorted``: sorted by (metric, period) first, the order the
  sync writes new values in, a stricter baseline);
- ``sync``: the real ``sync_all`` with the built-in csv connector: streamed in chunks of
  ``--chunk-rows``, every chunk validated by the Great Expectations suite (register, bounds,
  window, jump checks included), stored by ``load_observations`` (new values inserted, restated
  ones upserted with their old revision kept), one transaction.

Both sides use the product's engine (:func:`benefits.store.db.make_engine`, so the same SQLite
PRAGMAs). Setup (schema, register) is not timed. Importing Great Expectations is timed separately
and reported next to the sync. Each side's database file is replaced per round; rounds alternate
the sides (raw, sync, raw, sync, ...) so that both see the same machine load, and every round's
figures are printed, then the fastest of each side. Run:
``.venv/bin/python bench/ingest.py [--rows N] [--chunk-rows N] [--repeat N] [--raw-order file|sorted]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from operator import itemgetter
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
AS_OF = dt.date(2026, 11, 23)
BASELINE = dt.date(2013, 1, 1)
METRICS = 200


def register_data() -> dict[str, object]:
    """A register with one GBP benefit per metric ``m.ingest_<n>``, baselines on ``BASELINE``."""
    benefits = [
        {
            "key": f"b{n}",
            "name": f"Benefit {n}",
            "category": "cost_reduction",
            "metric": f"m.ingest_{n}",
            "unit": "GBP",
            "direction": "increase",
            "measure": "cumulative",
            "baseline": {"value": 0, "date": BASELINE.isoformat()},
            "target": {"value": 1_000_000, "date": "2027-12-27"},
            "owner": "Bench",
        }
        for n in range(METRICS)
    ]
    return {
        "name": "Ingest benchmark",
        "programmes": [{"key": "p", "name": "P"}],
        "initiatives": [
            {"key": "i", "name": "I", "programme": "p", "tactic": "innovation", "owner": "Bench", "benefits": benefits}
        ],
    }


def write_inputs(folder: Path, rows: int, seed: int = 0) -> None:
    """The register (one benefit per metric), connectors.yaml and the CSV of ``rows`` observations."""
    days = -(-rows // METRICS)
    if BASELINE + dt.timedelta(days=days) > AS_OF:
        raise SystemExit(f"--rows {rows}: at most {METRICS * (AS_OF - BASELINE).days} rows fit before {AS_OF}")
    config = folder / "config"
    config.mkdir()
    (config / "portfolio.yaml").write_text(yaml.safe_dump(register_data()))
    connectors = {"connectors": [{"name": "files", "type": "csv", "settings": {"path": str(folder / "data.csv")}}]}
    (config / "connectors.yaml").write_text(yaml.safe_dump(connectors))
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(1000.0, 50.0, size=rows), 2)
    periods = [(BASELINE + dt.timedelta(days=d)).isoformat() for d in range(days)]
    with open(folder / "data.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["metric", "period", "value", "unit"])
        for n in range(rows):
            out.writerow([f"m.ingest_{n % METRICS}", periods[n // METRICS], values[n], "GBP"])


def raw_side(folder: Path, order: str) -> dict[str, float]:
    """Plain SQLAlchemy Core: read the CSV, type the values, one executemany in one transaction.

    ``order`` ``sorted`` sorts the rows by (metric, period) before inserting them (timed)."""
    from sqlalchemy import insert

    from benefits.store import db, migrate, models

    engine = db.make_engine(_fresh(folder / "raw.db"))
    migrate.upgrade(engine)
    with engine.begin() as connection:
        run_id = connection.execute(
            insert(models.SyncRun).values(connector="raw", connector_type="raw")
        ).inserted_primary_key[0]
    started = time.perf_counter()
    with open(folder / "data.csv", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [
            {
                "metric": m,
                "period": dt.date.fromisoformat(p),
                "value": float(v),
                "unit": u,
                "source": "raw",
                "sync_run_id": run_id,
            }
            for m, p, v, u in reader
        ]
    if order == "sorted":
        rows.sort(key=itemgetter("metric", "period"))
    with engine.begin() as connection:
        connection.execute(insert(models.Observation), rows)
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}


def sync_side(folder: Path, chunk_rows: int) -> dict[str, float]:
    """The real sync of the csv connector (validation included), into a fresh store."""
    from benefits.register import load_register
    from benefits.store import db, migrate, repository
    from benefits.sync.runner import sync_all

    config = folder / "config"
    engine = db.make_engine(_fresh(folder / "sync.db"))
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    register = load_register(config)
    with sessions.begin() as session:
        repository.save_register(session, register)
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (timed on its own: every CLI sync pays it once)

    imported = time.perf_counter()
    report = sync_all(sessions, config, register, AS_OF, chunk_rows=chunk_rows)[0]
    if report.status != "succeeded" or report.rows_quarantined:
        raise SystemExit(f"sync did not accept every row: {report}")
    return {
        "seconds": time.perf_counter() - imported,
        "import_seconds": imported - started,
        "rows": report.rows_accepted,
    }


def _fresh(path: Path) -> str:
    """The URL of an empty SQLite file at ``path`` (any earlier round's file and WAL removed)."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def child(side: str, folder: Path, chunk_rows: int, raw_order: str) -> None:
    """Run one side and print its figures (peak RSS of this process, and of its largest child: the
    connector's reading process on the sync side) as JSON."""
    figures = raw_side(folder, raw_order) if side == "raw" else sync_side(folder, chunk_rows)
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["child_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(figures))


def run_child(side: str, folder: Path, chunk_rows: int, raw_order: str) -> dict[str, float]:
    """One side in a fresh Python process."""
    command = [
        sys.executable,
        __file__,
        "--side",
        side,
        "--folder",
        str(folder),
        "--chunk-rows",
        str(chunk_rows),
        "--raw-order",
        raw_order,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{side} side failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds (raw, then sync); the fastest of each side counts"
    )
    parser.add_argument(
        "--raw-order",
        choices=["file", "sorted"],
        default="file",
        help="the raw side inserts the rows in file order (default) or sorted by (metric, period)",
    )
    parser.add_argument("--side", choices=["raw", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args.side, args.folder, args.chunk_rows, args.raw_order)
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        write_inputs(folder, args.rows)
        rounds = []
        for n in range(1, args.repeat + 1):
            rounds.append(
                (
                    run_child("raw", folder, args.chunk_rows, args.raw_order),
                    run_child("sync", folder, args.chunk_rows, args.raw_order),
                )
            )
            raw_round, sync_round = rounds[-1]
            print(
                f"round {n}: raw {raw_round['seconds']:.1f} s, sync {sync_round['seconds']:.1f} s, "
                f"sync/raw speed {raw_round['seconds'] / sync_round['seconds']:.2f}",
                flush=True,
            )
    raw = min((r for r, _ in rounds), key=lambda f: f["seconds"])
    ours = min((o for _, o in rounds), key=lambda f: f["seconds"])
    ratios = [r["seconds"] / o["seconds"] for r, o in rounds]
    print(
        f"rows: {args.rows:,}  chunk rows: {args.chunk_rows:,}  raw order: {args.raw_order}  SQLite file, "
        f"one transaction per side, fastest of {args.repeat} round(s)"
    )
    print(f"{'side':<34}{'seconds':>9}{'rows/s':>11}{'peak RSS MiB':>14}{'child MiB':>11}")
    for name, figures in (("raw: csv + Core executemany", raw), ("sync: csv connector + GX + store", ours)):
        print(
            f"{name:<34}{figures['seconds']:>9.1f}{figures['rows'] / figures['seconds']:>11,.0f}"
            f"{figures['peak_rss_mib']:>14,.0f}{figures['child_rss_mib']:>11,.0f}"
        )
    print("child MiB: peak RSS of the connector's forked reading process, most of it pages shared with the sync")
    print(f"import great_expectations (once per sync process): {ours['import_seconds']:.1f} s")
    print(
        f"sync speed / raw speed: {raw['seconds'] / ours['seconds']:.2f} "
        f"(with the GX import: {raw['seconds'] / (ours['seconds'] + ours['import_seconds']):.2f}); goal >= 0.5"
    )
    print(f"per round: {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
