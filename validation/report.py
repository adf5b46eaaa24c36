"""The validation report: Markdown tables, figures and the raw rows, from harness rows.

:func:`write_report` writes into one folder

* ``summary.md``: verdict, per-estimator and per-case tables, cost study, the warnings
  and failures seen, and links to the figures;
* ``zscores.png`` and ``error_vs_cost.png`` (see :mod:`validation.plots`);
* ``rows.jsonl``: every row, one JSON object per line (NaN and infinity written as
  Python's :mod:`json` writes them), and ``settings.json`` (the command line and run
  settings), so that :func:`load_rows` and :func:`write_report` rebuild the same
  report.

Rows carry a ``study`` key: ``"suite"`` for the main runs (the tables and the
coverage rule) and ``"cost"`` for the error-versus-cost runs at several budgets. A row
without the key counts as ``"suite"``.
"""

import collections
import json
import logging
import math
import pathlib
import re

import numpy as np

from . import calibration, plots

__all__ = ["ci_failures", "load_rows", "save_rows", "summary_markdown", "write_report"]

logger = logging.getLogger(__name__)

# Convergence thresholds of mcising.diagnostics, flagged in the tables.
RHAT_MAX = 1.01
ESS_MIN = 400.0
FIGURES = ("zscores.png", "error_vs_cost.png")
# Numbers inside warning messages (replaced by # to group the messages).
_TEMPLATE_LENGTH = 110
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _plain(value):
    """JSON form of the numpy scalars and arrays a row may hold."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"row value of type {type(value).__name__} is not JSON-ready")


def save_rows(rows, path):
    """Write rows as JSON lines."""
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True, default=_plain) + "\n")


def load_rows(path):
    """Read rows written by :func:`save_rows`."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _study(rows, name):
    return [r for r in rows if r.get("study", "suite") == name]


def _order(rows, key):
    return list(dict.fromkeys(r[key] for r in rows))


def _values(rows, key):
    return np.array([r[key] for r in rows], dtype=float)


def _median(values):
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else math.nan


def _mean(values):
    values = values[~np.isnan(values)]
    return float(np.mean(values)) if values.size else math.nan


def _rms(values):
    values = values[~np.isnan(values)]
    return float(np.sqrt(np.mean(values**2))) if values.size else math.nan


def _max_abs(values):
    values = values[~np.isnan(values)]
    return float(np.max(np.abs(values))) if values.size else math.nan


def _fmt(value, spec=".3g"):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header, body):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return lines


def _runs(rows):
    """Distinct estimator calls among rows: (case, estimator, seed, budget)."""
    return {(r["case"], r["estimator"], r["seed"], r["budget"]) for r in rows}


def _target(cov):
    if cov.n == 0:
        return "-"
    if cov.below_bound:
        return "**FAIL** (below bound)"
    if cov.in_target:
        return "yes"
    return "no, but consistent" if cov.consistent_with_target else "**no**"


def ci_failures(rows):
    """The CI rules that the rows break, one sentence each (empty: all pass).

    Rules: no |z| above :data:`calibration.Z_FAIL` in any row; no run without a
    usable estimate and error bar (a crash or a NaN); for each estimator, a coverage
    hit count over the suite rows at least :func:`calibration.lower_bound_count`.
    """
    out = []
    crashed = collections.defaultdict(list)
    for r in rows:
        if r["failure"]:
            # A failed call fails at every point: one sentence per call.
            crashed[(r["estimator"], r["case"], r["seed"], r["budget"],
                     r["failure"])].append(r["regime"])
            continue
        z = r["z"]
        where = (f"{r['estimator']} on {r['case']} ({r['regime']}, seed {r['seed']}, "
                 f"budget {r['budget']:g})")
        if z is None or math.isnan(z):
            out.append(f"{where} gave no usable estimate or error bar")
        elif abs(z) > calibration.Z_FAIL:
            out.append(f"{where}: |z| = {abs(z):.2f} > {calibration.Z_FAIL:g} "
                       f"(estimate {r['estimate']:.6g} ± {r['stderr']:.2g}, "
                       f"exact {r['exact']:.6g})")
    for (name, case, seed, budget, failure), regimes in crashed.items():
        out.append(f"{name} on {case} ({', '.join(regimes)}, seed {seed}, budget "
                   f"{budget:g}) failed: {failure}")
    suite = _study(rows, "suite")
    for name in _order(suite, "estimator"):
        cov = calibration.coverage(_values([r for r in suite if r["estimator"] == name],
                                           "z"))
        if cov.below_bound:
            out.append(f"{name}: coverage {cov} has {cov.hits} hits, below the binomial "
                       f"lower bound {cov.lower_bound} for n = {cov.n}")
    return out


def _estimator_table(rows):
    header = ["estimator", "judged on", "runs", "median abs error", "median abs z",
              "max abs z", "coverage of 95% intervals [CI] (hits/n)",
              "in 90-98% target", "median s / point", "median spin updates / point",
              "failures"]
    body = []
    for name in _order(rows, "estimator"):
        mine = [r for r in rows if r["estimator"] == name]
        z = _values(mine, "z")
        cov = calibration.coverage(z)
        body.append([name, mine[0]["quantity"], len(mine),
                     _fmt(_median(np.abs(_values(mine, "error")))),
                     _fmt(_median(np.abs(z)), ".2f"), _fmt(_max_abs(z), ".2f"),
                     str(cov), _target(cov), _fmt(_median(_values(mine, "seconds"))),
                     _fmt(_median(_values(mine, "spin_updates")), ".2e"),
                     len(_runs([r for r in mine if r["failure"]]))])
    return _table(header, body)


def _case_table(rows):
    header = ["case", "N", "reference", "regime", "estimator", "exact",
              "mean estimate", "mean stderr", "max abs z", "coverage", "worst R-hat",
              "min ESS", "flag"]
    body = []
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["case"], r["regime"], r["estimator"])].append(r)
    for (case, regime, name), mine in groups.items():
        first = mine[0]
        z = _values(mine, "z")
        cov = calibration.coverage(z)
        rhat, ess = _values(mine, "rhat_max"), _values(mine, "ess_min")
        worst_rhat = float(np.max(rhat[~np.isnan(rhat)], initial=-np.inf))
        min_ess = float(np.min(ess[~np.isnan(ess)], initial=np.inf))
        flags = []
        if _max_abs(z) > calibration.Z_FAIL or np.any(np.isnan(z)):
            flags.append("**FAIL**")
        if worst_rhat > RHAT_MAX:
            flags.append("R-hat")
        if min_ess < ESS_MIN:
            flags.append("ESS")
        worst_rhat = worst_rhat if math.isfinite(worst_rhat) else math.nan
        min_ess = min_ess if math.isfinite(min_ess) else math.nan
        body.append([case, first["n_nodes"], first["reference"], regime, name,
                     _fmt(first["exact"], ".7g"),
                     _fmt(_mean(_values(mine, "estimate")), ".7g"),
                     _fmt(_mean(_values(mine, "stderr")), ".2g"),
                     _fmt(_max_abs(z), ".2f"), f"{cov.hits}/{cov.n}",
                     _fmt(worst_rhat, ".4f"), _fmt(min_ess, ".0f"), " ".join(flags)])
    return _table(header, body)


def _cost_table(rows):
    header = ["case", "estimator", "budget", "runs", "median spin updates / point",
              "median s / point", "RMS error", "RMS stderr", "max abs z", "coverage"]
    body = []
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["case"], r["estimator"], r["budget"])].append(r)
    for (case, name, budget), mine in sorted(groups.items(), key=lambda kv: (
            _order(rows, "case").index(kv[0][0]),
            _order(rows, "estimator").index(kv[0][1]), kv[0][2])):
        cov = calibration.coverage(_values(mine, "z"))
        body.append([case, name, f"{budget:g}", len(mine),
                     _fmt(_median(_values(mine, "spin_updates")), ".2e"),
                     _fmt(_median(_values(mine, "seconds"))),
                     _fmt(_rms(_values(mine, "error"))),
                     _fmt(_rms(_values(mine, "stderr"))),
                     _fmt(_max_abs(_values(mine, "z")), ".2f"), f"{cov.hits}/{cov.n}"])
    return _table(header, body)


def _warning_lines(rows):
    """Warnings recorded by the harness (numbers shown as #), and diagnostics past threshold."""
    seen = collections.defaultdict(set)
    for r in rows:
        for message in r["warnings"]:
            # Messages that differ only in their numbers are one kind of warning (the
            # harness cut them at a fixed length, so the template is cut shorter).
            template = _NUMBER.sub("#", message)
            if len(template) > _TEMPLATE_LENGTH:
                template = template[:_TEMPLATE_LENGTH].rstrip() + "..."
            seen[template].add(
                (r["estimator"], r["case"], r["seed"], r["budget"]))
    lines = []
    for message, runs in sorted(seen.items(), key=lambda kv: -len(kv[1])):
        names = sorted({k[0] for k in runs})
        lines.append(f"- {len(runs)} run(s) of {', '.join(names)} on "
                     f"{_few(sorted({k[1] for k in runs}), 6)}: `{message}`")
    for study in ("suite", "cost"):
        mine = _study(rows, study)
        for label, key, limit in (("R-hat", "rhat_max", f"> {RHAT_MAX}"),
                                  ("ESS", "ess_min", f"< {ESS_MIN:.0f}")):
            flagged = [r for r in mine if not math.isnan(r[key])
                       and (r[key] > RHAT_MAX if key == "rhat_max" else r[key] < ESS_MIN)]
            for name in _order(flagged, "estimator"):
                where = sorted({f"{r['case']} ({r['regime']}, budget {r['budget']:g})"
                                for r in flagged if r["estimator"] == name})
                count = sum(r["estimator"] == name for r in flagged)
                lines.append(f"- {name} ({study} runs): {label} {limit} in {count} "
                             f"row(s): {_few(where, 8)}")
    return lines


def _few(items, limit):
    """The first ``limit`` items joined, and how many more there are."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _settings_lines(rows, settings):
    suite = _study(rows, "suite")
    seeds = collections.Counter((r["case"], r["estimator"], r["regime"]) for r in suite)
    lines = []
    if settings.get("command"):
        lines.append(f"Command: `{settings['command']}`")
        lines.append("")
    lines += [
        f"- cases: {', '.join(_order(suite, 'case')) or '-'}",
        f"- regimes: {', '.join(_order(suite, 'regime')) or '-'}",
        f"- estimators: {', '.join(_order(rows, 'estimator')) or '-'}",
        f"- seeds per (case, regime, estimator): "
        f"{', '.join(str(s) for s in sorted(set(seeds.values()))) or '-'}",
        f"- budget(s): {', '.join(f'{b:g}' for b in sorted({r['budget'] for r in suite}))}",
    ]
    for key in ("base_seed", "max_seconds", "wall_seconds"):
        if key in settings:
            lines.append(f"- {key.replace('_', ' ')}: {settings[key]}")
    return lines


def summary_markdown(rows, settings=None):
    """The Markdown text of ``summary.md``.

    Parameters
    ----------
    rows : list of dict
    settings : dict, optional
        ``command``, ``base_seed`` and ``wall_seconds`` are shown when present.

    Returns
    -------
    str
    """
    settings = settings or {}
    suite, cost = _study(rows, "suite"), _study(rows, "cost")
    failures = ci_failures(rows)
    lines = ["# Validation summary", ""]
    lines += _settings_lines(rows, settings) + [""]
    lines += ["## Verdict", ""]
    if failures:
        lines.append(f"**CI rules broken ({len(failures)}):**")
        lines += [f"- {f}" for f in failures[:50]]
        if len(failures) > 50:
            lines.append(f"- ... and {len(failures) - 50} more")
    else:
        lines.append(f"All CI rules pass: no |z| above {calibration.Z_FAIL:g}, no failed "
                     "run, and every estimator's coverage hit count is at or above its "
                     f"binomial lower bound (alpha = {calibration.ALPHA:g}).")
    off = []
    for name in _order(suite, "estimator"):
        cov = calibration.coverage(_values([r for r in suite
                                            if r["estimator"] == name], "z"))
        if cov.n and not cov.in_target:
            off.append(f"{name} ({100 * cov.share:.1f}%)")
    lines.append("")
    lines.append("Coverage outside the 90-98% target: " + (", ".join(off) or "none") + ".")
    lines += ["", "## Estimators", "",
              "z = (estimate - exact) / reported stderr; honest error bars give a median "
              "|z| near 0.67 and 95% coverage. Chains (glauber, tempering) are judged on "
              "the mean energy, the other methods on the entropy (nats).", ""]
    lines += _estimator_table(suite)
    lines += ["", "## Cases", "",
              f"One row per (case, regime, estimator) over its seeds. Flags: **FAIL** "
              f"(|z| > {calibration.Z_FAIL:g} or no usable estimate), R-hat (worst "
              f"R-hat > {RHAT_MAX}), ESS (lowest ESS < {ESS_MIN:.0f}).", ""]
    lines += _case_table(suite)
    if cost:
        lines += ["", "## Error against cost", "",
                  "Budget multiplies the sweeps (chains, TI, MBAR) or divides the final "
                  "ln f (Wang-Landau). Spin updates of ti and mbar count the production "
                  "sweeps of the final ladder only (pilots and burn-in excluded).", ""]
        lines += _cost_table(cost)
    lines += ["", "## Warnings and failures seen", ""]
    crashes = sorted({f"{r['estimator']} on {r['case']} (seed {r['seed']}): {r['failure']}"
                      for r in rows if r["failure"]})
    warning_lines = _warning_lines(rows)
    lines += [f"- failed: {c}" for c in crashes] + warning_lines
    if not crashes and not warning_lines:
        lines.append("None.")
    lines += ["", "## Figures", "",
              "- [z-scores against N(0, 1)](zscores.png)",
              "- [error against cost](error_vs_cost.png)", ""]
    return "\n".join(lines)


def write_report(rows, out, settings=None):
    """Write ``summary.md``, the two figures, ``rows.jsonl`` and ``settings.json``.

    Parameters
    ----------
    rows : list of dict
        Harness rows, with ``study`` set to ``"suite"`` or ``"cost"``.
    out : str or os.PathLike
        Output folder (created if needed).
    settings : dict, optional
        See :func:`summary_markdown`.

    Returns
    -------
    summary : pathlib.Path
    failures : list of str
        The CI rules broken (see :func:`ci_failures`).
    """
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_rows(rows, out / "rows.jsonl")
    (out / "settings.json").write_text(json.dumps(settings or {}, indent=1) + "\n",
                                       encoding="utf-8")
    plots.plot_zscores(_study(rows, "suite"), out / FIGURES[0])
    plots.plot_error_vs_cost(_study(rows, "cost"), out / FIGURES[1])
    summary = out / "summary.md"
    summary.write_text(summary_markdown(rows, settings), encoding="utf-8")
    logger.info("wrote %s", summary)
    return summary, ci_failures(rows)
