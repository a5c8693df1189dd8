"""Maximum-likelihood driver shared by the models: optimise over log-parameters so every parameter stays > 0.

``scipy.optimize`` is imported by the calls that fit, not with the module: Django imports the models at
every start of every process (the server, ``clientbase ingest`` and its parsing process), and
``scipy.optimize`` with ``scipy.stats`` (``analytics.rules``) was 0.7 of the 1.6 s that took."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._arrays import FloatArray

ObjectiveWithGradient = Callable[[FloatArray], tuple[float, FloatArray]]
Objective = Callable[[FloatArray], float]


class FitError(RuntimeError):
    """The optimiser did not converge; the data are probably too sparse for the model."""


def minimise_with_gradient(
    objective: ObjectiveWithGradient,
    start: FloatArray,
    inverse_hessian: FloatArray | None = None,
    gradient_tolerance: float = 1e-7,
) -> tuple[FloatArray, bool, FloatArray]:
    """Minimise a smooth objective with its analytic gradient (BFGS).

    Returns (log-params, converged, BFGS inverse-Hessian estimate); the last can warm-start a later fit.
    The objective is the mean negative log-likelihood, so tolerances do not depend on the number of customers
    (gtol 1e-7 moves parameters by under 1e-6 relative on a million customers, lifetimes stops at 1e-7 too).
    BFGS rather than L-BFGS-B: the latter's Fortran core calls threaded BLAS and, on a busy 2-core machine,
    spent milliseconds per iteration on a 4-parameter problem.
    """
    from scipy.optimize import minimize

    options: dict[str, object] = {"maxiter": 1000, "gtol": gradient_tolerance}
    if inverse_hessian is not None:
        symmetric = (inverse_hessian + inverse_hessian.T) / 2.0
        if float(np.linalg.eigvalsh(symmetric).min()) > 0.0:
            options["hess_inv0"] = symmetric
    result = minimize(objective, start, jac=True, method="BFGS", options=options)
    if not np.all(np.isfinite(result.x)):
        raise FitError(f"optimiser diverged: {result.message}")
    # Near the optimum the line search can stop on rounding noise ("precision loss"); a vanishing gradient
    # there is still a converged fit.
    converged = bool(result.success) or float(np.max(np.abs(result.jac))) < 1e-6
    return np.asarray(result.x, dtype=np.float64), converged, np.asarray(result.hess_inv, dtype=np.float64)


def minimise_without_gradient(objective: Objective, start: FloatArray) -> tuple[FloatArray, bool]:
    """Minimise without an analytic gradient: BFGS on numerical gradients, Nelder-Mead if that fails.

    On the CDNOW data BFGS needs about 150 evaluations where Nelder-Mead needs over 600; the simplex is
    kept as the fallback for rough starts where finite differences mislead BFGS.
    """
    from scipy.optimize import minimize

    quasi_newton = minimize(objective, start, method="BFGS", options={"gtol": 1e-6, "maxiter": 500})
    # "Precision loss" stops are normal at the optimum with finite-difference gradients; a small gradient
    # says the point is a minimum all the same.
    settled = quasi_newton.success or float(np.max(np.abs(quasi_newton.jac))) < 1e-6
    if settled and np.all(np.isfinite(quasi_newton.x)) and np.isfinite(quasi_newton.fun):
        return np.asarray(quasi_newton.x, dtype=np.float64), True
    simplex = minimize(
        objective,
        start,
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-13, "adaptive": True},
    )
    polished = minimize(objective, simplex.x, method="BFGS", options={"gtol": 1e-9, "maxiter": 200})
    best = min((quasi_newton, simplex, polished), key=lambda result: float(result.fun))
    if not np.all(np.isfinite(best.x)) or not np.isfinite(best.fun):
        raise FitError(f"optimiser diverged: {best.message}")
    return np.asarray(best.x, dtype=np.float64), bool(simplex.success or polished.success)
