"""Hyper-parameter search (ハイパーパラメータの最適化), the book's random search, through Optuna.

The book's hyperparameter_optimization.py: the first 500 MNIST training images, 20% of them
held out for validation (never the test set), a 784-100x6-10 ReLU net trained for 50 epochs
by SGD with batch 100, and 100 trials of

    learning rate  lr     = 10 ** uniform(-6, -2)
    weight decay   lambda = 10 ** uniform(-8, -4)

scored by the final validation accuracy.  Optuna's RandomSampler draws exactly that (log-
uniform); ``sampler='tpe'`` uses its Tree-structured Parzen Estimator instead.

The study lives in a journal file (``jobs`` processes share it) or a database (any number of
machines), so the same command resumes it, keeping its complete trials and the seed and epochs
it was created with.  Optuna's MaxTrialsCallback stops at ``trials`` complete trials; a trial
that finds ``trials`` live ones ahead of it gives up its place (PRUNED), so parallel workers
never complete more.  A trial killed while running is failed and its parameters run once more
(Optuna's RetryHeartbeatStaleTrialCallback): a database's workers send heartbeats, and a trial
silent for GRACE_PERIOD is stale; each trial also records its worker (host:pid), and a search
fails the running trials whose process on its host is gone.  Ctrl-C queues its trial again.
"""
import math
import multiprocessing
import os
import signal
import socket
import sys
import warnings
import zlib

import numpy as np

from . import cli
from .data.files import process_exists
from .nets.multi_layer_net import MultiLayerNet
from .util import shuffle_dataset

HEARTBEAT_INTERVAL = 5  # seconds, database storages only
GRACE_PERIOD = 30
CONNECT_TIMEOUT = 10  # seconds: a server that takes the connection and never answers is an error

FULL = dict(train_size=500, epochs=50, trials=100)
QUICK = dict(train_size=500, epochs=30, trials=12)
SAMPLERS = {"random": "RandomSampler", "tpe": "TPESampler"}  # Optuna's samplers


def _optuna():
    try:
        import optuna
    except ImportError as err:  # a clear message instead of a bare ImportError
        raise RuntimeError("the hyperparam experiment needs Optuna: pip install "
                           "'chainrule[search]' (or pip install optuna)") from err
    # Errors only: Optuna's warning for a trial stopped by Ctrl-C repeats the traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


def is_url(storage):
    return "://" in storage


def open_storage(storage):
    """An Optuna storage for a file path (a journal) or a database URL (with heartbeats)."""
    optuna = _optuna()
    if is_url(storage):
        return _open_database(optuna, storage)
    from optuna.storages.journal import JournalFileBackend

    path = os.path.abspath(storage)
    if not os.path.isdir(os.path.dirname(path)):
        raise ValueError(f"--storage {storage}: the folder {os.path.dirname(path)} does not exist")
    damaged = (f"--storage {storage} is not an Optuna journal, or it is damaged; move it away "
               "or give another file")
    if os.path.isfile(path) and os.path.getsize(path):
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read() != b"\n":  # Optuna would append its next record to the cut one
                raise ValueError(f"{damaged} (its last line is cut short)")
    try:
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    except OSError as err:
        raise ValueError(f"--storage {storage}: {err.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{damaged} ({type(err).__name__}: {err})") from None


def _open_database(optuna, storage):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        url = make_url(storage)
        url.get_dialect()
    except (SQLAlchemyError, ValueError) as err:
        raise ValueError(f"--storage {storage} is not a database URL ({err}); write it as "
                         "postgresql://user@host/database or sqlite:///file.db") from None
    # The plain scheme goes to psycopg2, which the search extra installs (SQLAlchemy's own
    # choice for it depends on its version).
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    shown = url.render_as_string(hide_password=True)
    psycopg = url.get_driver_name() in ("psycopg2", "psycopg")
    kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}} if psycopg else {}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url.render_as_string(hide_password=False), engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=_retry)
    except ImportError as err:
        raise ValueError(f"--storage {shown}: {err.__cause__ or err}; install the database's "
                         "driver (the search extra installs psycopg2, for postgresql://)") from None
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise ValueError(f"cannot use the database {shown}: {reason}") from None


def _retry(study, trial):
    """Queue a failed trial's parameters once more (not if it was itself a retry)."""
    optuna = _optuna()
    trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k != "worker"}
    with warnings.catch_warnings():  # the callback is "experimental" in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)(study, trial)


def _fail_dead_trials(study):
    """Fail the running trials whose process on this host is gone, and retry them."""
    optuna = _optuna()
    for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
        host, _, pid = t.user_attrs.get("worker", "").rpartition(":")
        if host != socket.gethostname() or process_exists(int(pid)):
            continue
        try:
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # another search failed it first, and retries it
        _retry(study, t)


def split_data(train_size, seed, data_dir=None):
    """The book's split: the first ``train_size`` training images shuffled, 20% for validation."""
    x, t, _, _ = cli.mnist_subset(train_size, 0, data_dir)
    x, t = shuffle_dataset(x, t, np.random.default_rng(seed))
    n_val = int(len(x) * 0.2)
    return (x[n_val:], t[n_val:]), (x[:n_val], t[:n_val])


def train_trial(lr, weight_decay, data, epochs, seed):
    """Train the book's net with these settings; (val_acc_list, train_acc_list) per epoch, up
    to where it diverged if it did (scored by what it reached, as the book would)."""
    (x_train, t_train), (x_val, t_val) = data
    net = MultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=weight_decay, dtype=np.float32,
                        rng=seed)
    train, val = cli.train_accuracies(net, (x_train, t_train, x_val, t_val), epochs, seed, lr)
    return val, train


def _objective(study, n_trials, data, epochs, seed):
    optuna = _optuna()
    TrialState = optuna.trial.TrialState
    live = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)

    def objective(trial):
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        ahead = sum(t.number < trial.number for t in study.get_trials(deepcopy=False, states=live))
        if ahead >= n_trials:
            study.stop()
            raise optuna.TrialPruned(f"{n_trials} trials are already planned")
        try:
            trial.set_user_attr("seed", trial.user_attrs.get("seed", seed + trial.number))
            lr = trial.suggest_float("lr", 1e-6, 1e-2, log=True)
            weight_decay = trial.suggest_float("weight_decay", 1e-8, 1e-4, log=True)
            val, train = train_trial(lr, weight_decay, data, epochs, trial.user_attrs["seed"])
            trial.set_user_attr("val_acc_list", [float(a) for a in val])
            trial.set_user_attr("train_acc_list", [float(a) for a in train])
            return float(val[-1])
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM from the parent: queue it again
            _retry(study, study.get_trials()[trial.number])
            raise

    return objective


def _complete(study):
    return study.get_trials(deepcopy=False, states=(_optuna().trial.TrialState.COMPLETE,))


def _make_sampler(sampler, seed):
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be 'random' or 'tpe', got {sampler!r}")
    return getattr(_optuna().samplers, SAMPLERS[sampler])(seed=seed)


def work(storage, study_name, n_trials, *, sampler, data_dir=None, worker=0, callbacks=()):
    """One worker: run trials of the study until ``n_trials`` are complete."""
    optuna = _optuna()
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    if len(_complete(study)) >= n_trials:
        return
    settings = study.user_attrs["settings"]
    # Different draws in every worker and after every resume; on a database, other
    # invocations (other machines) are workers too, so their process and host count.
    entropy = [settings["seed"], worker, len(study.trials)]
    if is_url(storage):
        entropy += [os.getpid(), zlib.crc32(socket.gethostname().encode())]
    sampler_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    study.sampler = _make_sampler(sampler, sampler_seed)
    data = split_data(settings["train_size"], settings["seed"], data_dir)
    done = optuna.study.MaxTrialsCallback(n_trials, states=(optuna.trial.TrialState.COMPLETE,))
    study.optimize(_objective(study, n_trials, data, settings["epochs"], settings["seed"]),
                   callbacks=[done, *callbacks])


def _worker_main(kwargs):
    # A terminal's Ctrl-C is for the parent alone: it stops its workers with SIGTERM, which
    # they take as Ctrl-C (their trials are queued again).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        work(**kwargs)
    except KeyboardInterrupt:
        sys.exit(cli.INTERRUPTED)


def search(*, trials, storage, study_name, sampler="random", jobs=1, epochs, train_size,
           seed=0, data_dir=None, progress=True):
    """Run (or resume) the search to ``trials`` complete trials; returns the Optuna study."""
    optuna = _optuna()
    _make_sampler(sampler, None)  # refuse an unknown sampler or seed before anything is written
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise ValueError(f"--seed must be an integer >= 0, got {seed}")
    study = optuna.create_study(study_name=study_name, storage=open_storage(storage),
                                direction="maximize", load_if_exists=True)
    asked = dict(seed=int(seed), epochs=int(epochs), train_size=int(train_size))
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", asked)
    elif study.trials:
        kept = "; ".join(f"{k} {stored[k]}, not {v}" for k, v in asked.items() if stored[k] != v)
        if kept:
            kept = (f"; it keeps the settings it was created with ({kept}): give a new --study "
                    "to start afresh")
        print(f"resuming study {study_name!r} in {storage}: {len(_complete(study))} of {trials} "
              f"trials complete{kept}", file=sys.stderr)
    _fail_dead_trials(study)
    kwargs = dict(storage=storage, study_name=study_name, n_trials=trials, sampler=sampler,
                  data_dir=data_dir)
    ctx = multiprocessing.get_context("spawn")  # no forked BLAS or SQLAlchemy state
    procs = [ctx.Process(target=_worker_main, args=(dict(kwargs, worker=i),))
             for i in range(1, jobs)]
    with cli.progress_bar_closed(trials, "trials", progress) as bar:

        def show(study, trial):
            if bar is not None:
                bar.update(min(len(_complete(study)), trials) - bar.n)

        show(study, None)
        for p in procs:
            p.start()
        try:
            work(**kwargs, callbacks=[show])
            for p in procs:
                p.join()
        finally:  # after an error or Ctrl-C, SIGTERM: each worker queues its trial again
            for p in procs:
                p.terminate()
                p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} of {jobs} search workers failed (exit codes {failed})")
    return study


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
    default = QUICK if quick else FULL
    study_name = study_name or f"chapter6-{sampler}{'-quick' if quick else ''}"
    storage = storage or "hyperparam.journal"
    study = search(trials=trials or default["trials"], storage=storage, study_name=study_name,
                   sampler=sampler, jobs=jobs, epochs=epochs or default["epochs"],
                   train_size=default["train_size"], seed=seed, data_dir=data_dir,
                   progress=progress)
    rows = results(study)
    if not rows:
        raise RuntimeError(f"the study {study_name!r} has no complete trial")
    rho = _spearman([math.log10(r["lr"]) for r in rows], [r["val_acc"] for r in rows])
    best = rows[0]
    small = [r["val_acc"] for r in rows if r["lr"] < 1e-4]
    # The best trial has a large learning rate and beats every small-rate trial clearly.
    # With no small-rate trial there is nothing to beat: the claim is not shown, not held.
    holds = bool(small) and best["lr"] >= 1e-3 and best["val_acc"] >= max(small) + 0.05
    smallest = (f"best validation accuracy with lr < 1e-4: {max(small):.3f}" if small else
                "no trial had lr < 1e-4, so nothing was compared (run more --trials)")
    lines = [f"{len(rows)} complete trials in {storage} (study {study_name}); rank correlation "
             f"of log lr with validation accuracy {rho:.2f}; {smallest}; best trials:"]
    lines += [f"  val acc {r['val_acc']:.3f} | lr {r['lr']:.2e}, weight decay "
              f"{r['weight_decay']:.2e}" for r in rows[:5]]
    return cli.Outcome("hyperparam", "the learning rate matters most: the best trial has lr >= "
                       "1e-3 and beats every trial with lr < 1e-4 by 0.05 or more (book: good "
                       "trials have lr 0.001-0.01, weight decay 1e-8-1e-6) (fig. 6-24)", holds,
                       "\n".join(lines), {"rows": rows})


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
    return cli.save_figure(fig, path)
