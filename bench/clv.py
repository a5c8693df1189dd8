"""clientbase's CLV models against lifetimes 0.11.3, side by side on the same simulated transaction logs.

    python bench/clv.py --sizes 10000,100000,1000000
    python bench/clv.py --sizes 1000000 --skip-lifetimes-above 100000   # ours only above 100k
    python bench/clv.py --score-only 10000000                          # scoring from stored figures

Each log is simulated once (BG/NBD buying, Gamma-Gamma spend, customers acquired over 540 days: see
``clientbase.analytics.models.simulate.simulate_transaction_log``) and written to a temporary .npz file.
Each side then runs in its own subprocess, so its peak memory (ru_maxrss) is its own:
log -> per-customer summary -> fit BG/NBD and Gamma-Gamma -> score everyone (expected purchases in 90 days,
P(alive), 12-month CLV at 1 %/month). lifetimes receives the log as a pandas DataFrame with datetimes,
built before its clock starts (its natural input, as the arrays are ours). Parameters and scores of the
two sides are compared. Targets (issue 5): >= 20x faster than lifetimes at 1,000,000 customers with
identical parameters; 10,000,000 customers scored from stored (x, t_x, T, m) in under 30 s.
The last line of output is one JSON object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

HORIZON_DAYS = 90.0
TARGET_RATIO = 20.0
TARGET_SCORE_SECONDS = 30.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_ours(log: dict[str, np.ndarray]) -> dict[str, Any]:
    from clientbase.analytics.models import (
        BetaGeoModel,
        GammaGammaModel,
        score_customers,
        summarise_transactions,
    )

    started = time.perf_counter()
    summary = summarise_transactions(log["customer_id"], log["timestamp"], log["amount"], float(log["end"]))
    x, t_x, T, m = summary.frequency, summary.recency, summary.T, summary.monetary_value
    transactions, spend = BetaGeoModel(), GammaGammaModel()
    bg, gg = transactions.fit(x, t_x, T), spend.fit(x, m)
    scores = score_customers(transactions, spend, x, t_x, T, m, horizon_days=HORIZON_DAYS, months=12, discount_rate=0.01)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds, "bg": bg.as_array().tolist(), "gg": gg.as_array().tolist(),
        "scores": np.stack([scores.expected_purchases, scores.probability_alive, scores.lifetime_value]),
    }


def _run_lifetimes(log: dict[str, np.ndarray]) -> dict[str, Any]:
    import lifetimes
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    origin = pd.Timestamp("2025-01-01")
    frame = pd.DataFrame({
        "customer_id": log["customer_id"],
        "at": origin + pd.to_timedelta(log["timestamp"], unit="D"),
        "amount": log["amount"],
    })
    started = time.perf_counter()
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "at", "amount", observation_period_end=origin + pd.Timedelta(days=float(log["end"]))
    )
    x, t_x, T, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    bg = lifetimes.BetaGeoFitter().fit(x, t_x, T)
    repeat = x > 0
    gg = lifetimes.GammaGammaFitter().fit(x[repeat], m[repeat])
    expected = bg.conditional_expected_number_of_purchases_up_to_time(HORIZON_DAYS, x, t_x, T)
    alive = bg.conditional_probability_alive(x, t_x, T)
    value = gg.customer_lifetime_value(bg, x, t_x, T, m, time=12, discount_rate=0.01, freq="D")
    seconds = time.perf_counter() - started
    order = np.argsort(summary.index.to_numpy())  # ours is sorted by customer id
    scores = np.stack([np.asarray(expected), np.asarray(alive), np.asarray(value)])[:, order]
    return {"seconds": seconds, "bg": bg.params_.tolist(), "gg": gg.params_.tolist(), "scores": scores}


def _run_score_only(path: Path) -> dict[str, Any]:
    from clientbase.analytics.models import (
        BetaGeoModel,
        BetaGeoParams,
        GammaGammaModel,
        GammaGammaParams,
        score_customers,
    )

    stored = np.load(path)
    x, t_x, T, m = stored["x"], stored["t_x"], stored["T"], stored["m"]
    transactions = BetaGeoModel(BetaGeoParams(*stored["bg"]))
    spend = GammaGammaModel(GammaGammaParams(*stored["gg"]))
    started = time.perf_counter()
    scores = score_customers(transactions, spend, x, t_x, T, m, horizon_days=HORIZON_DAYS, months=12, discount_rate=0.01)
    seconds = time.perf_counter() - started
    checksum = scores.expected_purchases.sum() + scores.probability_alive.sum() + scores.lifetime_value.sum()
    return {"seconds": seconds, "checksum": float(checksum)}


def _child(side: str, data: Path, out: Path) -> None:
    if side == "score":
        result = _run_score_only(data)
    else:
        log = dict(np.load(data))
        result = _run_ours(log) if side == "ours" else _run_lifetimes(log)
    if "scores" in result:
        np.save(out.with_suffix(".npy"), result.pop("scores"))
    result["peak_mb"] = _peak_mb()
    out.write_text(json.dumps(result))


def _spawn(side: str, data: Path, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{side}-{data.stem}.json"
    subprocess.run([sys.executable, __file__, "--child", side, str(data), str(out)], check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    scores = out.with_suffix(".npy")
    if scores.exists():
        result["scores"] = np.load(scores)
    return result


def _max_relative(ours: Any, theirs: Any) -> float:
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _compare_size(customers: int, with_lifetimes: bool, workdir: Path, seed: int) -> dict[str, Any]:
    from clientbase.analytics.models.simulate import simulate_transaction_log

    log = simulate_transaction_log(customers, np.random.default_rng(seed))
    data = workdir / f"log-{customers}.npz"
    np.savez(data, customer_id=log.customer_id, timestamp=log.timestamp, amount=log.amount, end=log.observation_end)
    row: dict[str, Any] = {"customers": customers, "transactions": int(log.timestamp.shape[0])}
    ours = _spawn("ours", data, workdir)
    row.update(ours_seconds=ours["seconds"], ours_peak_mb=ours["peak_mb"], ours_bg=ours["bg"], ours_gg=ours["gg"])
    if with_lifetimes:
        theirs = _spawn("lifetimes", data, workdir)
        row.update(
            lifetimes_seconds=theirs["seconds"], lifetimes_peak_mb=theirs["peak_mb"],
            lifetimes_bg=theirs["bg"], lifetimes_gg=theirs["gg"],
            speedup=theirs["seconds"] / ours["seconds"],
            params_max_rel_diff=max(_max_relative(ours["bg"], theirs["bg"]), _max_relative(ours["gg"], theirs["gg"])),
            scores_max_rel_diff=dict(zip(
                ("expected_90d", "p_alive", "clv_12m"),
                (_max_relative(a, b) for a, b in zip(ours["scores"], theirs["scores"], strict=True)),
                strict=True,
            )),
        )
    return row


def _score_only(customers: int, workdir: Path, seed: int) -> dict[str, Any]:
    from clientbase.analytics.models.simulate import simulate_beta_geo

    rng = np.random.default_rng(seed)
    T = np.ceil(rng.random(customers) * 540.0)
    bg = (0.6, 60.0, 0.8, 2.5)
    summary = simulate_beta_geo(T, *bg, rng=rng)
    # Stored figures are whole days, as the summary of a real log would give.
    recency = np.minimum(np.round(summary.recency), T)
    recency[summary.frequency == 0] = 0.0
    m = np.where(summary.frequency > 0, rng.gamma(6.0, 3000.0 / 6.0, customers), 0.0)
    data = workdir / f"stored-{customers}.npz"
    np.savez(data, x=summary.frequency, t_x=recency, T=T, m=m, bg=np.array(bg), gg=np.array([6.0, 4.0, 1500.0]))
    del summary, recency, m, T
    result = _spawn("score", data, workdir)
    return {"customers": customers, "seconds": result["seconds"], "peak_mb": result["peak_mb"]}


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'customers':>10} {'rows':>10} {'ours s':>8} {'ours MB':>8} {'lifetimes s':>12} {'lt MB':>8} "
          f"{'speedup':>8} {'param diff':>11} {'score diff':>11}")
    for row in rows:
        lifetimes_cells = (
            f"{row['lifetimes_seconds']:>12.2f} {row['lifetimes_peak_mb']:>8.0f} {row['speedup']:>7.1f}x "
            f"{row['params_max_rel_diff']:>11.1e} {max(row['scores_max_rel_diff'].values()):>11.1e}"
            if "speedup" in row else f"{'skipped':>12} {'':>8} {'':>8} {'':>11} {'':>11}"
        )
        print(f"{row['customers']:>10,} {row['transactions']:>10,} {row['ours_seconds']:>8.2f} "
              f"{row['ours_peak_mb']:>8.0f} {lifetimes_cells}")
    for row in rows:
        print(f"  {row['customers']:,}: BG/NBD ours {np.round(row['ours_bg'], 5).tolist()}"
              + (f" lifetimes {np.round(row['lifetimes_bg'], 5).tolist()}" if "lifetimes_bg" in row else ""))
        print(f"  {row['customers']:,}: Gamma-Gamma ours {np.round(row['ours_gg'], 4).tolist()}"
              + (f" lifetimes {np.round(row['lifetimes_gg'], 4).tolist()}" if "lifetimes_gg" in row else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--skip-lifetimes-above", type=int, default=None)
    parser.add_argument("--score-only", type=int, default=None, help="also time scoring this many customers")
    parser.add_argument("--seed", type=int, default=20251122)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, data, out = args.child
        _child(side, Path(data), Path(out))
        return
    # The machine is shared: the load average says how much the timings were squeezed by others.
    report: dict[str, Any] = {"bench": "clv", "cores": os.cpu_count(), "load_before": os.getloadavg()[0], "sizes": []}
    with tempfile.TemporaryDirectory(prefix="clv-bench-") as tmp:
        workdir = Path(tmp)
        rows = []
        for size in [int(s) for s in args.sizes.split(",") if s]:
            with_lifetimes = args.skip_lifetimes_above is None or size <= args.skip_lifetimes_above
            rows.append(_compare_size(size, with_lifetimes, workdir, args.seed))
        _print_table(rows)
        report["sizes"] = rows
        biggest = max((r for r in rows if "speedup" in r), key=lambda r: r["customers"], default=None)
        if biggest is not None:
            report["speedup_at_largest"] = biggest["speedup"]
            report["meets_speed_target"] = biggest["customers"] >= 1_000_000 and biggest["speedup"] >= TARGET_RATIO
        if args.score_only:
            scored = _score_only(args.score_only, workdir, args.seed)
            print(f"score only: {scored['customers']:,} customers in {scored['seconds']:.2f} s, "
                  f"peak {scored['peak_mb']:.0f} MB (target < {TARGET_SCORE_SECONDS:.0f} s)")
            report["score_only"] = scored | {"meets_target": scored["seconds"] < TARGET_SCORE_SECONDS}
    report["load_after"] = os.getloadavg()[0]
    print(f"load average before/after: {report['load_before']:.1f} / {report['load_after']:.1f} on {report['cores']} cores")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
