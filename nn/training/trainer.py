"""The book's Trainer (common/trainer.py): mini-batch training by epochs with any optimizer.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20,
                      mini_batch_size=100, optimizer='sgd', optimizer_param={'lr': 0.01})
    trainer.train()
    trainer.train_acc_list, trainer.test_acc_list   # once per epoch, and before the first

``network`` needs ``params``, ``gradient(x, t)``, ``accuracy(x, t)`` and the loss of the
last forward pass in ``last_layer.loss`` (or ``lastLayer.loss``): MultiLayerNet(Extend)
and TwoLayerNet have them.  An epoch is max(train_size / mini_batch_size, 1) iterations,
each on a mini-batch drawn at random with replacement, as the book draws them.
"""
import math

import numpy as np

from .optimizers import get_optimizer


def _last_loss(network):
    layer = getattr(network, "last_layer", None) or network.lastLayer
    return float(layer.loss)


class Trainer:
    """Train ``network`` for ``epochs``; the lists are filled as the book's Trainer fills them.

    ``evaluate_sample_num_per_epoch``: measure accuracy on only the first that many
    samples of each set (None: all of them).  ``rng``: seed or Generator for the
    mini-batches (None: a fresh random one).  ``progress``: a tqdm bar (or pass a bar to
    share, ``bar=``); ``verbose``: print the accuracies.  ``weight_decay`` in the loss is
    the network's business (MultiLayerNet's ``weight_decay_lambda``).
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param=None,
                 evaluate_sample_num_per_epoch=None, verbose=True, *, rng=None, bar=None):
        if epochs < 1 or mini_batch_size < 1:
            raise ValueError(f"Trainer: epochs and mini_batch_size must be >= 1, got {epochs} "
                             f"and {mini_batch_size}")
        if len(x_train) != len(t_train) or len(x_test) != len(t_test):
            raise ValueError(f"Trainer: {len(x_train)} training inputs for {len(t_train)} labels, "
                             f"{len(x_test)} test inputs for {len(t_test)} labels; they must match")
        self.network = network
        self.x_train, self.t_train, self.x_test, self.t_test = x_train, t_train, x_test, t_test
        self.epochs, self.batch_size = epochs, mini_batch_size
        self.optimizer = (get_optimizer(optimizer, **(optimizer_param or {}))
                          if isinstance(optimizer, str) else optimizer)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.rng = np.random.default_rng(rng)
        self.bar = bar
        self.train_size = len(x_train)
        self.iter_per_epoch = max(self.train_size // mini_batch_size, 1)
        self.max_iter = epochs * self.iter_per_epoch
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []

    def _accuracies(self):
        n = self.evaluate_sample_num_per_epoch
        xs, ts = (self.x_train, self.t_train), (self.x_test, self.t_test)
        if n is not None:
            xs, ts = (xs[0][:n], xs[1][:n]), (ts[0][:n], ts[1][:n])
        train_acc = self.network.accuracy(*xs)
        test_acc = self.network.accuracy(*ts)
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        if self.verbose:
            print(f"=== epoch {self.current_epoch}, train acc {train_acc:.4f}, "
                  f"test acc {test_acc:.4f} ===")

    def train_step(self):
        """One mini-batch: gradient, update, loss recorded; accuracy at each epoch's end."""
        batch = self.rng.integers(self.train_size, size=self.batch_size)
        grads = self.network.gradient(self.x_train[batch], self.t_train[batch])
        loss = _last_loss(self.network)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} at iteration {self.current_iter + 1}:"
                                     " training diverged; try a smaller learning rate")
        self.optimizer.update(self.network.params, grads)
        self.train_loss_list.append(loss)
        self.current_iter += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            self._accuracies()

    def train(self):
        """Accuracy before training (epoch 0), then every epoch; returns self."""
        self._accuracies()
        for _ in range(self.max_iter):
            self.train_step()
        return self
