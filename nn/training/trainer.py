"""The book's Trainer (common/trainer.py): mini-batch training by epochs with any optimizer.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20,
                      mini_batch_size=100, optimizer='sgd', optimizer_param={'lr': 0.01})
    trainer.train()
    trainer.train_acc_list, trainer.test_acc_list   # one per epoch, as the book's

A thin wrapper around the training loop ``nn.training.loop.train``: an epoch is
max(train_size // mini_batch_size, 1) iterations on random mini-batches; accuracy is
measured after the first iteration of each epoch, as the book's Trainer measures it.
"""
import numpy as np

from .loop import History, train
from .optimizers import get_optimizer


class Trainer:
    """Train ``network`` for ``epochs``; the lists are filled as the book's Trainer fills them.

    ``evaluate_sample_num_per_epoch``: measure accuracy on only the first that many
    samples of each set (None: all of them).  ``rng``: seed or Generator for the
    mini-batches (None: a fresh random one).  ``bar``: a tqdm bar to advance (shared by
    several runs); ``verbose``: print the book's lines (see ``train``).  Weight decay is
    the network's (``weight_decay_lambda``).  If training raises (a diverged run's
    FloatingPointError), the lists keep what was recorded before.
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
        self.verbose, self.rng, self.bar = verbose, np.random.default_rng(rng), bar
        self.train_size = len(x_train)
        self.iter_per_epoch = max(self.train_size // mini_batch_size, 1)
        self.max_iter = epochs * self.iter_per_epoch
        self.history = History(self.iter_per_epoch)
        self.train_loss_list = self.history.train_loss_list
        self.train_acc_list = self.history.train_acc_list
        self.test_acc_list = self.history.test_acc_list

    def train(self):
        """Train for ``epochs``, on one BLAS thread; returns self.

        With ``verbose``, prints the book's lines: ``train loss:<loss>`` after each
        iteration, ``=== epoch:<n>, train acc:<a>, test acc:<b> ===`` when an epoch's
        accuracies are measured, and at the end the accuracy on the whole test set.
        """
        say = self.bar.write if self.bar is not None else print

        def step(i, history):
            say(f"train loss:{history.train_loss_list[-1]}")
            if i % self.iter_per_epoch == 0:
                say(f"=== epoch:{len(history.train_acc_list)}, train acc:"
                    f"{history.train_acc_list[-1]}, test acc:{history.test_acc_list[-1]} ===")
        train(self.network, self.x_train, self.t_train, self.x_test, self.t_test,
              optimizer=self.optimizer, iters_num=self.max_iter, batch_size=self.batch_size,
              rng=self.rng, last_eval=False, train_acc_size=self.evaluate_sample_num_per_epoch,
              test_acc_size=self.evaluate_sample_num_per_epoch, threads=1, eval_threads=0,
              progress=False, bar=self.bar, verbose=False, history=self.history,
              on_step=step if self.verbose else None)
        if self.verbose:
            say("=============== Final Test Accuracy ===============")
            say(f"test acc:{self.network.accuracy(self.x_test, self.t_test)}")
        return self
