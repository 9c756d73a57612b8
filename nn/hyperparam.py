"""Hyper-parameter search (ハイパーパラメータの最適化), the book's random search, through Optuna.

The book's hyperparameter_optimization.py: the first 500 MNIST training images, 20% of them
held out for validation (never the test set), a 784-100x6-10 ReLU net trained for 50 epochs
by SGD with batch 100, and 100 trials of

    learning rate  lr     = 10 ** uniform(-6, -2)
    weight decay   lambda = 10 ** uniform(-8, -4)

scored by the final validation accuracy.  Optuna's RandomSampler draws exactly that (log-
uniform); ``sampler='tpe'`` uses its Tree-structured Parzen Estimator instead.

Storage, so a search survives interruption and scales out:
- default, a local journal file (``hyperparam.journal``): run the same command again and it
  resumes.  A trial that was running when the search was killed is marked FAIL and its
  parameters are run again once (user attribute ``retry_of``); completed trials stay.  While
  a search runs, its processes hold a lock on ``<file>.search-lock``; a second search on the same
  file is refused rather than mistaking the first one's running trials for dead ones.
- ``jobs=N``: N worker processes on this machine share the file.
- a database URL (``postgresql://user@host/db``, ``sqlite:///file.db``): any number of
  machines run workers on one study.  Workers send a heartbeat every 5 s; a trial without
  one for 30 s is failed and re-run (Optuna's RetryFailedTrialCallback).

The search stops at ``trials`` trials: before training, each trial checks its rank among the
study's live trials (complete, running, waiting; by number) and gives up its place
(state PRUNED, user attribute ``over_budget``) when ``trials`` others are ahead of it, so
parallel workers never complete more than ``trials`` trials between them.
"""
import contextlib
import fcntl
import math
import multiprocessing
import os
import socket
import time
import warnings
import zlib

import numpy as np

HEARTBEAT_INTERVAL = 5  # seconds, database storages only
GRACE_PERIOD = 30

FULL = dict(train_size=500, epochs=50, trials=100)
QUICK = dict(train_size=500, epochs=30, trials=12)


def _optuna():
    try:
        import optuna
    except ImportError as err:  # a clear message instead of a bare ImportError
        raise RuntimeError("the hyperparam experiment needs Optuna: pip install "
                           "'chainrule[search]' (or pip install optuna)") from err
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def is_url(storage):
    return "://" in storage


def open_storage(storage):
    """An Optuna storage for a file path (journal) or a database URL (with heartbeats)."""
    optuna = _optuna()
    if is_url(storage):
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                storage, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=1))
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(os.path.abspath(storage)))


def split_data(train_size, seed, data_dir=None):
    """The book's split: the first ``train_size`` training images shuffled, 20% for validation."""
    from .experiments import _mnist

    x, t, _, _ = _mnist(train_size, 0, data_dir)
    order = np.random.default_rng(seed).permutation(len(x))
    x, t = x[order], t[order]
    n_val = int(len(x) * 0.2)
    return (x[n_val:], t[n_val:]), (x[:n_val], t[:n_val])


def train_trial(lr, weight_decay, data, epochs, seed):
    """Train the book's net with these settings; (val_acc_list, train_acc_list) per epoch."""
    from .nets.multi_layer_net import MultiLayerNet
    from .training.trainer import Trainer

    (x_train, t_train), (x_val, t_val) = data
    net = MultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=weight_decay, dtype=np.float32,
                        rng=seed)
    trainer = Trainer(net, x_train, t_train, x_val, t_val, epochs=epochs, mini_batch_size=100,
                      optimizer="SGD", optimizer_param={"lr": lr}, verbose=False, rng=seed)
    from .experiments import _threads

    try:
        with np.errstate(over="ignore", invalid="ignore"), _threads():
            trainer.train()
    except FloatingPointError:  # diverged: score what it reached, as the book would
        pass
    return trainer.test_acc_list, trainer.train_acc_list


def _live_rank(study, number):
    """How many live trials (complete, running or waiting) have a smaller number than ``number``."""
    from optuna.trial import TrialState

    live = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING,
                                                    TrialState.WAITING))
    return sum(1 for t in live if t.number < number)


def _objective(study, n_trials, data, epochs, seed):
    optuna = _optuna()

    def objective(trial):
        if _live_rank(study, trial.number) >= n_trials:
            trial.set_user_attr("over_budget", True)
            study.stop()
            raise optuna.TrialPruned(f"{n_trials} trials are already planned")
        lr = trial.suggest_float("lr", 1e-6, 1e-2, log=True)
        weight_decay = trial.suggest_float("weight_decay", 1e-8, 1e-4, log=True)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        origin = trial.user_attrs.get("retry_of", trial.number)
        val, train = train_trial(lr, weight_decay, data, epochs, seed + origin)
        trial.set_user_attr("val_acc_list", [float(a) for a in val])
        trial.set_user_attr("train_acc_list", [float(a) for a in train])
        return float(val[-1])

    return objective


def _complete(study):
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _make_sampler(sampler, seed):
    optuna = _optuna()
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"sampler must be 'random' or 'tpe', got {sampler!r}")


def work(storage, study_name, n_trials, *, epochs, train_size, seed, sampler, data_dir=None,
         worker=0, on_trial=None):
    """One worker: run trials of the study until ``n_trials`` are complete (or planned)."""
    optuna = _optuna()
    with _shared_lock(storage):
        study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
        done = len(_complete(study))
        if done >= n_trials:
            return
        # Different draws in every worker and after every resume.  On a shared database
        # other invocations (other machines) are workers too, so their process and host
        # go into the seed; a local file has one invocation at a time (its lock), which keeps
        # a one-process search repeatable.
        entropy = [seed or 0, worker, len(study.trials)]
        if is_url(storage):
            entropy += [os.getpid(), zlib.crc32(socket.gethostname().encode())]
        study.sampler = _make_sampler(
            sampler, int(np.random.SeedSequence(entropy).generate_state(1)[0]))
        data = split_data(train_size, seed or 0, data_dir)

        def stop_when_done(study, trial):
            if on_trial is not None:
                on_trial(trial)
            if len(_complete(study)) >= n_trials:
                study.stop()

        study.optimize(_objective(study, n_trials, data, epochs, seed or 0),
                       callbacks=[stop_when_done])


def _worker_main(kwargs):
    work(**kwargs)


@contextlib.contextmanager
def _shared_lock(storage):
    """A shared lock on ``<file>.search-lock`` while a worker uses a local journal (nothing for URLs)."""
    if is_url(storage):
        yield
        return
    with open(os.path.abspath(storage) + ".search-lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _drop_partial_record(path):
    """Cut a journal's last line if a killed writer left it half-written (no newline).

    Optuna skips such a line while it is the last, but the next record would be appended
    to it and make the journal unreadable.  Called under the exclusive lock only.
    """
    if not os.path.exists(path):
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


def _recover(study, storage):
    """Fail the trials a killed search left running and queue their parameters again.

    Only for a local file, and only under the exclusive lock: then no live process can
    own a running trial.
    """
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        if t.params and not t.user_attrs.get("over_budget"):
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.user_attrs.get(
                "retry_of", t.number)})


def search(*, trials, storage, study_name, sampler="random", jobs=1, epochs, train_size,
           seed=0, data_dir=None, progress=True):
    """Run (or resume) the search to ``trials`` complete trials; returns the Optuna study."""
    optuna = _optuna()
    _make_sampler(sampler, None)  # refuse an unknown sampler before anything is written
    if not is_url(storage):
        folder = os.path.dirname(os.path.abspath(storage))
        if not os.path.isdir(folder):
            raise ValueError(f"--storage {storage}: the folder {folder} does not exist")
    lock = None
    if not is_url(storage):
        lock = open(os.path.abspath(storage) + ".search-lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise RuntimeError(f"another search is running on {storage} (it holds "
                               f"{storage}.search-lock); wait for it, or add workers with --jobs or a "
                               "database --storage") from None
    try:
        if lock is not None:
            # Optuna's own lock on the journal (a symlink <file>.lock) outlives a process
            # killed while writing, and the next writer would wait 30 s before breaking it.
            # Under our exclusive lock no live process uses the journal: it is stale.
            stale = os.path.abspath(storage) + ".lock"
            if os.path.lexists(stale):
                os.remove(stale)
            _drop_partial_record(storage)
        study = optuna.create_study(study_name=study_name, storage=open_storage(storage),
                                    direction="maximize", load_if_exists=True)
        if lock is not None:
            _recover(study, storage)
            fcntl.flock(lock, fcntl.LOCK_SH)  # workers share it from here on
        kwargs = dict(storage=storage, study_name=study_name, n_trials=trials, epochs=epochs,
                      train_size=train_size, seed=seed, sampler=sampler, data_dir=data_dir)
        bar = None
        if progress:
            from .experiments import _bar

            bar = _bar(trials, "trials", True)
            if bar is not None:
                bar.update(len(_complete(study)))
        try:
            if jobs == 1:
                work(**kwargs, on_trial=(lambda t: bar.update(1) if bar is not None and
                                         t.state.name == "COMPLETE" else None))
            else:
                _run_processes(jobs, kwargs, study, bar)
        finally:
            if bar is not None:
                bar.close()
        return optuna.load_study(study_name=study_name, storage=open_storage(storage))
    finally:
        if lock is not None:
            lock.close()


def _run_processes(jobs, kwargs, study, bar):
    ctx = multiprocessing.get_context("spawn")  # no forked BLAS or SQLAlchemy state
    procs = [ctx.Process(target=_worker_main, args=(dict(kwargs, worker=i),)) for i in range(jobs)]
    for p in procs:
        p.start()
    try:
        shown = len(_complete(study))
        while any(p.is_alive() for p in procs):
            time.sleep(0.5)
            if bar is not None:
                now = len(_complete(study))
                bar.update(now - shown)
                shown = now
    finally:
        for p in procs:
            p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} of {jobs} search workers failed (exit codes {failed})")


# ---------------------------------------------------------------- the experiment's outcome

def results(study):
    """Complete trials as dicts (number, lr, weight_decay, val_acc, curves), best first."""
    rows = [dict(number=t.number, lr=t.params["lr"], weight_decay=t.params["weight_decay"],
                 val_acc=t.value, val_acc_list=t.user_attrs.get("val_acc_list", []),
                 train_acc_list=t.user_attrs.get("train_acc_list", []))
            for t in _complete(study)]
    return sorted(rows, key=lambda r: (-r["val_acc"], r["number"]))


def _spearman(a, b):
    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def search_outcome(*, quick=False, seed=0, progress=True, data_dir=None, trials=None, jobs=1,
                   storage=None, study_name=None, sampler="random", epochs=None):
    from .experiments import Outcome

    settings = dict(QUICK if quick else FULL)
    trials = trials or settings.pop("trials")
    settings.pop("trials", None)
    settings["epochs"] = epochs or settings["epochs"]
    study_name = study_name or f"chapter6-{sampler}{'-quick' if quick else ''}"
    storage = storage or "hyperparam.journal"
    study = search(trials=trials, storage=storage, study_name=study_name, sampler=sampler,
                   jobs=jobs, seed=seed, data_dir=data_dir, progress=progress, **settings)
    rows = results(study)
    if not rows:
        raise RuntimeError(f"the study {study_name!r} has no complete trial")
    rho = _spearman([math.log10(r["lr"]) for r in rows], [r["val_acc"] for r in rows])
    best = rows[0]
    small = [r["val_acc"] for r in rows if r["lr"] < 1e-4]
    # The best trial has a large learning rate and beats every small-rate trial clearly.
    holds = best["lr"] >= 1e-3 and best["val_acc"] >= max(small, default=0.0) + 0.05
    lines = [f"{len(rows)} complete trials in {storage} (study {study_name}); rank correlation "
             f"of log lr with validation accuracy {rho:.2f}; best validation accuracy with "
             f"lr < 1e-4: {max(small, default=float('nan')):.3f}; best trials:"]
    lines += [f"  val acc {r['val_acc']:.3f} | lr {r['lr']:.2e}, weight decay "
              f"{r['weight_decay']:.2e}" for r in rows[:5]]
    return Outcome("hyperparam", "the learning rate matters most: the best trial has lr >= "
                   "1e-3 and beats every trial with lr < 1e-4 by 0.05 or more (book: good "
                   "trials have lr 0.001-0.01, weight decay 1e-8-1e-6) (fig. 6-24)", holds,
                   "\n".join(lines),
                   {"rows": rows})


def plot_search(data, path=None, best=20):
    """The book's fig. 6-24: validation (solid) and training (dashed) accuracy of the best trials."""
    from matplotlib.figure import Figure

    rows = data["rows"][:best]
    cols = 5
    nrows = max(1, math.ceil(len(rows) / cols))
    fig = Figure(figsize=(12, 2.2 * nrows), layout="constrained")
    axes = np.ravel(fig.subplots(nrows, cols, squeeze=False))
    for i, (ax, r) in enumerate(zip(axes, rows)):
        ax.plot(r["val_acc_list"])
        ax.plot(r["train_acc_list"], "--")
        ax.set_title(f"Best-{i + 1}({r['val_acc']:.2f})", fontsize=9)
        ax.set_ylim(0.0, 1.0)
        ax.text(0.02, 0.85, f"lr {r['lr']:.1e}\nwd {r['weight_decay']:.1e}", fontsize=6,
                transform=ax.transAxes)
        if i % cols:
            ax.set_yticks([])
        ax.set_xticks([])
    for ax in axes[len(rows):]:
        ax.set_axis_off()
    if path is not None:
        from .experiments import save_figure

        save_figure(fig, path)
    return fig
