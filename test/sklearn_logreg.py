"""scikit-learn's L2 logistic regression on the problem a test wrote, for test/sklearn-logreg.test.ts.

usage: /usr/bin/python3 test/sklearn_logreg.py DIR
DIR holds meta.json ({"trainGenes", "testGenes", "width", "l2"}) and float32 files x_train, y_train, x_test,
y_test (row-major). Prints JSON: the test AUROC of the fit, its coefficients, intercept and objective.

simplechrome minimises mean BCE + l2/2 * |w|^2 (bias free). scikit-learn minimises
C * sum BCE + 1/2 * |w|^2 (intercept free); dividing ours by l2 gives C = 1 / (l2 * n).
"""
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def main() -> None:
    d = Path(sys.argv[1])
    meta = json.loads((d / "meta.json").read_text())
    n, m, w = meta["trainGenes"], meta["testGenes"], meta["width"]
    x = np.fromfile(d / "x_train", dtype=np.float32).reshape(n, w).astype(np.float64)
    y = np.fromfile(d / "y_train", dtype=np.float32).astype(np.float64)
    xt = np.fromfile(d / "x_test", dtype=np.float32).reshape(m, w).astype(np.float64)
    yt = np.fromfile(d / "y_test", dtype=np.float32).astype(np.float64)
    l2 = float(meta["l2"])
    model = LogisticRegression(solver="lbfgs", C=1.0 / (l2 * n), tol=1e-10, max_iter=100000)
    model.fit(x, y)
    coef = model.coef_[0]
    z = x @ coef + model.intercept_[0]
    bce = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    print(json.dumps({
        "auroc": float(roc_auc_score(yt, xt @ coef + model.intercept_[0])),
        "coef": coef.tolist(),
        "intercept": float(model.intercept_[0]),
        "objective": float(bce + l2 / 2 * coef @ coef),
        "iterations": int(model.n_iter_[0]),
    }))


if __name__ == "__main__":
    main()
