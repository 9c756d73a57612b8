"""Parameter updates (パラメータの更新) with the book's interface ``update(params, grads)``.

Only Adam, which chapter 7's SimpleConvNet trains with (a minimal version; the full set
of chapter 6 optimizers is issue 12's ``nn/optimizers.py``, which replaces this file).
"""
import numpy as np

EPS = 1e-7  # the book's


class Adam:
    """Adam (arXiv:1412.6980), as the book's common/optimizer.py:

    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);  iter <- iter + 1;
    W <- W - lr_t m / (sqrt(v) + 1e-7),  lr_t = lr sqrt(1 - b2^iter) / (1 - b1^iter).

    ``params`` and ``grads``: dicts of arrays with the same keys; each parameter array is
    updated in place (layers holding it see the change); the moments are kept in its dtype.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        if not lr > 0 or not 0 <= beta1 < 1 or not 0 <= beta2 < 1:
            raise ValueError(f"Adam: need lr > 0 and 0 <= beta1, beta2 < 1, got lr={lr!r}, "
                             f"beta1={beta1!r}, beta2={beta2!r}")
        self.lr, self.beta1, self.beta2 = float(lr), float(beta1), float(beta2)
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(p) for key, p in params.items()}
            self.v = {key: np.zeros_like(p) for key, p in params.items()}
        self.iter += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = self.lr * np.sqrt(1.0 - b2 ** self.iter) / (1.0 - b1 ** self.iter)
        for key, p in params.items():
            m, v, g = self.m[key], self.v[key], grads[key]
            m += (1 - b1) * (g - m)
            v += (1 - b2) * (g * g - v)
            step = np.sqrt(v)
            step += EPS
            np.divide(m, step, out=step)
            step *= lr_t
            p -= step
