"""The hyper-parameter search (nn.hyperparam) as a user runs it: resuming after a kill or
Ctrl-C, parallel workers and a second search on one journal file, two workers sharing a real
PostgreSQL server, and every mistake as one ``error:`` line.

"Recorded exactly once" is checked the same way everywhere: the study ends with exactly the
number of complete trials asked for, their numbers are distinct, no two complete trials
share parameters (a resumed or retried trial is not run twice), and every complete trial
carries its own learning curves.  Trials here train for 2 epochs: the mechanics, not the
accuracy, are under test (test_experiments.py checks the search's result).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import optuna  # the test extra installs it
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

# Each test runs the command in a subprocess or trains a net: minutes in all.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _needs_mnist(mnist_data):
    """The trials train on MNIST (the fixture fails when CHAINRULE_DATA is unset)."""


def command(*args):
    return [sys.executable, "-m", "nn.experiments", "hyperparam", "--quick", "--epochs", "2",
            "--no-progress", *args]


def env():
    e = dict(os.environ)
    e["CHAINRULE_DATA"] = os.path.abspath(e["CHAINRULE_DATA"])
    e["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def start(args, cwd):
    """The command in the background, with SIGINT at its default (as a shell's foreground job)."""
    return subprocess.Popen(command(*args), cwd=cwd, env=env(), text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def load(storage, name):
    from nn.hyperparam import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(storage))


def retried(trial):
    """The number of the trial that ``trial`` re-runs (Optuna's retry callback notes it)."""
    with warnings.catch_warnings():  # "experimental" in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)


def check_recorded_once(study, n):
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == n, [(t.number, t.state.name) for t in study.trials]
    numbers = [t.number for t in complete]
    assert len(set(numbers)) == n
    params = [(t.params["lr"], t.params["weight_decay"]) for t in complete]
    assert len(set(params)) == n, "a trial was run twice"
    for t in complete:
        assert len(t.user_attrs["val_acc_list"]) == 2  # one per epoch, as the book's Trainer
        assert t.value == t.user_attrs["val_acc_list"][-1]
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    return complete


def stop_in_a_trial(proc, storage, name, signum, done=2):
    """Send ``signum`` to ``proc`` while it trains a trial, once ``done`` trials are complete,
    and wait for it to end (``signum`` None: let it go on); the trials as they were at that
    moment (the process is frozen while the journal is read)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if "://" not in storage and not os.path.exists(storage):
            continue
        proc.send_signal(signal.SIGSTOP)
        try:
            trials = load(storage, name).trials
        except KeyError:  # the study is not created yet
            trials = []
        if (sum(t.state == TrialState.COMPLETE for t in trials) >= done
                and any(t.state == TrialState.RUNNING and t.params for t in trials)):
            if signum is not None:
                proc.send_signal(signum)
            proc.send_signal(signal.SIGCONT)
            if signum is not None:
                proc.wait(timeout=60)
            return trials
        proc.send_signal(signal.SIGCONT)
    pytest.fail(f"the search ended before it could be stopped: {proc.communicate()[1]}")


def check_resumed(storage, name, n, before, cwd):
    """Resume (the same command); check that nothing was lost or changed and that the stopped
    trial ran again once."""
    out = subprocess.run(command("--trials", str(n), "--storage", storage, "--study", name),
                         cwd=cwd, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    assert out.stderr.startswith(f"resuming study '{name}' in {storage}: ")
    study = load(storage, name)
    complete = check_recorded_once(study, n)
    by_number = {t.number: t for t in complete}
    for t in before:
        if t.state == TrialState.COMPLETE:  # nothing lost, nothing changed
            assert (by_number[t.number].params, by_number[t.number].value) == (t.params, t.value)
        if t.state == TrialState.RUNNING:  # failed, and its parameters ran again once
            assert study.trials[t.number].state == TrialState.FAIL
            retries = [r for r in complete if retried(r) == t.number]
            assert len(retries) == 1, [(r.number, r.state.name, retried(r)) for r in study.trials]
            # What it had drawn is kept (a parameter not drawn yet is drawn anew).
            assert {k: retries[0].params[k] for k in t.params} == t.params
            assert retries[0].user_attrs["seed"] == t.user_attrs["seed"]


def test_a_killed_search_resumes_with_nothing_lost_or_repeated(tmp_path):
    storage, name = str(tmp_path / "search.journal"), "resume"
    proc = start(["--trials", "20", "--storage", storage, "--study", name], tmp_path)
    before = stop_in_a_trial(proc, storage, name, signal.SIGKILL)  # no clean-up at all
    assert any(t.state == TrialState.RUNNING for t in load(storage, name).trials)
    check_resumed(storage, name, 20, before, tmp_path)


def test_ctrl_c_is_one_line_and_the_interrupted_trial_runs_again(tmp_path):
    storage, name = str(tmp_path / "search.journal"), "ctrl-c"
    proc = start(["--trials", "6", "--storage", storage, "--study", name, "--epochs", "40"],
                 tmp_path)
    before = stop_in_a_trial(proc, storage, name, signal.SIGINT, done=1)
    assert proc.returncode == 130
    # No Optuna warning, no traceback: one line.
    assert proc.stderr.read() == ("interrupted: finished trials are kept; run the same command "
                                  "to resume\n")
    # The interrupted trial is failed, and waits to run again with its parameters.
    running = [t for t in before if t.state == TrialState.RUNNING]
    study = load(storage, name)
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert [retried(t) for t in waiting] == [running[0].number]
    assert waiting[0].params == running[0].params
    # The resumed search keeps --epochs 40 (the study's): 40 accuracies per trial, not 2.
    out = subprocess.run(command("--trials", "6", "--storage", storage, "--study", name),
                         cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    study = load(storage, name)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 6 and all(len(t.user_attrs["val_acc_list"]) == 40 for t in complete)
    assert [retried(t) for t in complete if retried(t) is not None] == [running[0].number]


def test_a_second_search_on_the_same_file_joins_without_failing_live_trials(tmp_path):
    storage, name = str(tmp_path / "busy.journal"), "busy"
    args = ["--trials", "8", "--storage", storage, "--study", name]
    first = start([*args, "--epochs", "20"], tmp_path)
    stop_in_a_trial(first, storage, name, None, done=0)  # wait for a running trial
    second = subprocess.run(command(*args, "--epochs", "20"), cwd=tmp_path, env=env(),
                            capture_output=True, text=True, timeout=300)
    assert second.returncode in (0, 1), second.stderr
    first.wait(timeout=300)
    assert first.returncode in (0, 1), first.stderr.read()
    study = load(storage, name)
    # The first search's running trial was alive: the second one must not have failed it.
    assert not study.get_trials(states=(TrialState.FAIL,))
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 8


def test_parallel_jobs_on_a_local_file_stop_at_the_budget(tmp_path):
    storage = str(tmp_path / "jobs.journal")
    out = subprocess.run(command("--trials", "7", "--jobs", "2", "--storage", storage,
                                 "--study", "jobs"),
                         cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    assert "7 complete trials" in out.stdout
    check_recorded_once(load(storage, "jobs"), 7)


def test_a_study_keeps_its_seed_and_says_so_when_resumed(tmp_path):
    storage = str(tmp_path / "seed.journal")
    first = subprocess.run(command("--trials", "2", "--storage", storage, "--study", "s"),
                           cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert first.returncode in (0, 1) and first.stderr == "", first.stderr
    out = subprocess.run(command("--trials", "3", "--storage", storage, "--study", "s",
                                 "--seed", "1", "--epochs", "3"),
                         cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    assert out.stderr == (f"resuming study 's' in {storage}: 2 of 3 trials complete; it keeps "
                          "the settings it was created with (seed 0, not 1; epochs 2, not 3): "
                          "give a new --study to start afresh\n")
    complete = check_recorded_once(load(storage, "s"), 3)  # 2 epochs each, as created
    assert [t.user_attrs["seed"] for t in complete] == [0, 1, 2]  # seed 0 + trial number


def test_the_tpe_sampler_runs_the_same_search(tmp_path, monkeypatch):
    from nn import hyperparam

    made = []
    real = optuna.samplers.TPESampler
    monkeypatch.setattr(optuna.samplers, "TPESampler",
                        lambda seed=None: made.append(seed) or real(seed=seed))
    study = hyperparam.search(trials=4, storage=str(tmp_path / "tpe.journal"), study_name="tpe",
                              sampler="tpe", epochs=1, train_size=100, progress=False)
    assert any(seed is not None for seed in made)  # the search's own, seeded
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 4 and len({t.number for t in complete}) == 4
    with pytest.raises(ValueError, match="sampler must be 'random' or 'tpe', got 'grid'"):
        hyperparam.search(trials=1, storage=str(tmp_path / "x.journal"), study_name="x",
                          sampler="grid", epochs=1, train_size=100, progress=False)
    assert not (tmp_path / "x.journal").exists()  # refused before anything is written


# ---------------------------------------------------------------- mistakes: one line, exit 2

def free_port():
    """A local TCP port where nothing listens (connecting to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def a_journal(path, tail=b""):
    optuna.create_study(study_name="s", storage=optuna.storages.JournalStorage(
        JournalFileBackend(str(path))))
    with open(path, "ab") as f:
        f.write(tail)


@pytest.mark.parametrize("case", ["not a URL", "postgres alias", "refused", "folder", "garbage",
                                  "cut short", "damaged line", "negative seed"])
def test_mistakes_are_one_error_line_and_create_nothing(case, tmp_path):
    journal = tmp_path / "j.journal"
    port = free_port()
    storage, fragments, seed = str(journal), [], "0"
    if case == "not a URL":
        storage, fragments = "nosuch://db", ["--storage nosuch://db is not a database URL"]
    elif case == "postgres alias":
        storage, fragments = "postgres://u@h/db", ["is not a database URL", "postgresql://"]
    elif case == "refused":
        storage = f"postgresql+psycopg2://u:secret@127.0.0.1:{port}/db"
        fragments = [f"cannot use the database postgresql+psycopg2://u:***@127.0.0.1:{port}/db",
                     "Connection refused"]
    elif case == "folder":
        (tmp_path / "sub").mkdir()
        storage = str(tmp_path / "sub")
        fragments = [f"--storage {storage}: Is a directory"]
    elif case == "garbage":
        journal.write_bytes(bytes(range(256)) * 4)
        fragments = [f"--storage {journal} is not an Optuna journal, or it is damaged"]
    elif case == "cut short":
        a_journal(journal, b'{"op_code":4,"worker_id":"x","study_id":0,"dat')
        fragments = [f"--storage {journal} is not an Optuna journal", "last line is cut short"]
    elif case == "damaged line":
        a_journal(journal, b'{"op_code":4,"wor\n{"op_code":1,"worker_id":"x","study_id":0}\n')
        fragments = [f"--storage {journal} is not an Optuna journal, or it is damaged"]
    else:
        seed, fragments = "-1", ["--seed must be an integer >= 0, got -1"]
    before = {p.name: p.read_bytes() if p.is_file() else None for p in tmp_path.iterdir()}
    out = subprocess.run(command("--storage", storage, "--seed", seed), cwd=tmp_path, env=env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "secret" not in lines[0]  # the password is not shown
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    # nothing created, nothing changed
    assert {p.name: p.read_bytes() if p.is_file() else None for p in tmp_path.iterdir()} == before


def test_a_server_that_never_answers_fails_in_bounded_time_naming_it(tmp_path):
    from nn.hyperparam import CONNECT_TIMEOUT

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held, stop = [], threading.Event()

    def accept_and_say_nothing():  # until the test is over, or a minute at most
        server.settimeout(0.2)
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                pass
        for s in [server, *held]:
            s.close()

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        begin = time.monotonic()
        out = subprocess.run(command("--storage", f"postgresql+psycopg2://u@127.0.0.1:{port}/db"),
                             cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=60)
        took = time.monotonic() - begin
    finally:
        stop.set()
        thread.join()
    assert held, "the command never connected"
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"error: cannot use the database postgresql+psycopg2://u@"
                                 f"127.0.0.1:{port}/db: ") and "timeout" in out.stderr
    assert out.stderr.count("\n") == 1
    assert took < CONNECT_TIMEOUT + 30


# ---------------------------------------------------------------- PostgreSQL

def _pg_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, ("PostgreSQL is not installed: apt-get install postgresql (.ci/run does); "
                   "this test starts its own server")
    return found[-1].parent


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own in a temporary folder, on a Unix socket only (no TCP
    port to collide with); yields README's URL form (postgresql://) to an empty database and
    stops the server at teardown.

    initdb refuses to run as root: as root the server runs as the ``postgres`` account that
    Debian's postgresql package creates (this test creates no account), otherwise as the
    invoking user.
    """
    import psycopg2  # noqa: F401  (the search extra installs it; the search connects through it)

    bindir = _pg_bin()
    as_server = []
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root, this test runs PostgreSQL as the 'postgres' account "
                        "that Debian's postgresql package creates, and there is none")
        as_server = ["runuser", "-u", "postgres", "--"]
    # Not pytest's tmp_path: its parents are private to the invoking user, and the server's
    # account must reach its folder.
    root = Path(tempfile.mkdtemp(prefix="chainrule-pg-"))
    if as_server:
        shutil.chown(root, "postgres", "postgres")

    def run(*cmd):
        subprocess.run([*as_server, *cmd], check=True, capture_output=True, text=True)

    data, port = root / "data", "5432"
    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E",
            "UTF8")
        run(bindir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o",
            f"-k {root} -p {port} -c listen_addresses='' -c fsync=off", "start")
        try:
            run(bindir / "createdb", "-h", root, "-p", port, "-U", "postgres", "optuna")
            yield f"postgresql://postgres@/optuna?host={root}&port={port}"
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_one_postgresql_study(postgres, tmp_path):
    n = 16
    args = command("--trials", str(n), "--storage", postgres, "--study", "shared")
    # The study (and Optuna's tables) exist before the two independent workers join it, so
    # neither waits for the other to create them.
    from nn.hyperparam import open_storage

    optuna.create_study(study_name="shared", storage=open_storage(postgres), direction="maximize")
    procs = [subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, stderr) in zip(procs, outs):
        assert p.returncode in (0, 1), stderr
    study = load(postgres, "shared")
    complete = check_recorded_once(study, n)
    # both workers did some of the work
    workers = {t.user_attrs["worker"] for t in complete}
    assert len(workers) == 2, workers
    assert not list(tmp_path.iterdir())  # a database search writes no file


def test_a_killed_postgresql_worker_is_resumed(postgres, tmp_path):
    # On one host the search sees that the worker's process is gone; from other hosts,
    # Optuna's heartbeats find the trial stale after its grace period.
    from nn.hyperparam import open_storage

    optuna.create_study(study_name="killed", storage=open_storage(postgres),
                        direction="maximize")  # and its tables, before the worker
    proc = start(["--trials", "16", "--storage", postgres, "--study", "killed"], tmp_path)
    before = stop_in_a_trial(proc, postgres, "killed", signal.SIGKILL)
    check_resumed(postgres, "killed", 16, before, tmp_path)


def test_a_search_with_no_small_rate_trial_does_not_claim_the_result(monkeypatch):
    """The book's claim compares the best trial with the small-rate ones: with none of those,
    nothing was compared, and the outcome says so instead of holding vacuously."""
    import nn.hyperparam as hp

    rows = [{"lr": lr, "val_acc": acc, "weight_decay": 1e-6, "val_acc_list": [acc],
             "train_acc_list": [acc]} for lr, acc in ((5e-3, 0.9), (2e-3, 0.8))]
    monkeypatch.setattr(hp, "search", lambda **kwargs: None)
    monkeypatch.setattr(hp, "results", lambda study: rows)
    outcome = hp.search_outcome(quick=True, progress=False, trials=2)
    assert not outcome.holds and "no trial had lr < 1e-4" in outcome.details
    rows.append({**rows[0], "lr": 1e-5, "val_acc": 0.1})
    assert hp.search_outcome(quick=True, progress=False, trials=3).holds
