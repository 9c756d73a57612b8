"""The hyper-parameter search (nn.hyperparam) as a user runs it: resuming after a kill,
parallel workers on a local journal file, and two workers sharing a real PostgreSQL server.

"Recorded exactly once" is checked the same way everywhere: the study ends with exactly the
number of complete trials asked for, their numbers are distinct, no two complete trials
share parameters (a resumed or retried trial is not run twice), and every complete trial
carries its own learning curves.  Trials here train for 2 epochs: the mechanics, not the
accuracy, are under test (test_experiments.py checks the search's result).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import optuna  # noqa: E402  (the test extra installs it)
from optuna.trial import TrialState  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_USER = "chainrule_pg"  # initdb refuses to run as root: the server runs as this user


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


def load(storage, name):
    from nn.hyperparam import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(storage))


def check_recorded_once(study, n):
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == n, [(t.number, t.state.name) for t in study.trials]
    numbers = [t.number for t in complete]
    assert len(set(numbers)) == n
    params = [(t.params["lr"], t.params["weight_decay"]) for t in complete]
    assert len(set(params)) == n, "a trial was run twice"
    for t in complete:
        assert len(t.user_attrs["val_acc_list"]) == 3  # epoch 0 and two epochs
        assert t.value == t.user_attrs["val_acc_list"][-1]
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    return complete


def test_an_interrupted_search_resumes_with_nothing_lost_or_repeated(tmp_path):
    storage = str(tmp_path / "search.journal")
    name, n = "resume", 20
    proc = subprocess.Popen(command("--trials", str(n), "--storage", storage, "--study", name),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # Kill it (SIGKILL: no clean-up at all) in the middle of a trial, once 2 are complete.
    # The process is frozen (SIGSTOP) while the journal is read, so what is read is what
    # the kill leaves; if no trial is running at that moment it is let go on and tried again.
    deadline = time.monotonic() + 120
    before = None
    while before is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if not os.path.exists(storage):
            continue
        proc.send_signal(signal.SIGSTOP)
        try:
            trials = load(storage, name).trials
        except KeyError:  # the study is not created yet
            trials = []
        done = [t for t in trials if t.state == TrialState.COMPLETE]
        if len(done) >= 2 and any(t.state == TrialState.RUNNING and t.params for t in trials):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            before = {t.number: (t.params, t.value) for t in done}
        else:
            proc.send_signal(signal.SIGCONT)
    assert before is not None, f"the search ended before it could be killed: {proc.stderr.read()}"
    killed = load(storage, name)
    running = [t for t in killed.trials if t.state == TrialState.RUNNING]
    assert running, "the kill left no running trial behind"
    stale = {t.number: t.params for t in running}

    # Resume: the same command.
    out = subprocess.run(command("--trials", str(n), "--storage", storage, "--study", name),
                         cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    study = load(storage, name)
    complete = check_recorded_once(study, n)
    by_number = {t.number: t for t in complete}
    for number, (params, value) in before.items():  # nothing lost, nothing changed
        assert by_number[number].params == params and by_number[number].value == value
    for number, params in stale.items():
        # the killed trial is marked failed and its parameters ran again, once
        assert study.trials[number].state == TrialState.FAIL
        retries = [t for t in complete if t.user_attrs.get("retry_of") == number]
        # What it had drawn before the kill is kept (a parameter not drawn yet is drawn anew).
        assert len(retries) == 1, [(t.number, t.state.name, t.user_attrs.get("retry_of"))
                                   for t in study.trials]
        assert {k: retries[0].params[k] for k in params} == params


def test_a_second_search_on_the_same_file_is_refused(tmp_path):
    storage = str(tmp_path / "busy.journal")
    proc = subprocess.Popen(command("--trials", "50", "--storage", storage, "--study", "busy"),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(storage) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        out = subprocess.run(command("--trials", "50", "--storage", storage, "--study", "busy"),
                             cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 2
        assert out.stderr.startswith("error: another search is running on")
        assert "Traceback" not in out.stderr
    finally:
        proc.kill()
        proc.wait()


def test_parallel_jobs_on_a_local_file_stop_at_the_budget(tmp_path):
    storage = str(tmp_path / "jobs.journal")
    out = subprocess.run(command("--trials", "7", "--jobs", "2", "--storage", storage,
                                 "--study", "jobs"),
                         cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    assert "7 complete trials" in out.stdout
    check_recorded_once(load(storage, "jobs"), 7)


# ---------------------------------------------------------------- PostgreSQL

def _pg_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, ("PostgreSQL is not installed: apt-get install postgresql (.ci/run does); "
                   "this test starts its own server")
    return found[-1].parent


def _as_server_user(cmd):
    """Run ``cmd`` as the unprivileged server user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return subprocess.run(cmd, check=True, capture_output=True, text=True)
    return subprocess.run(["runuser", "-u", PG_USER, "--", *cmd], check=True,
                          capture_output=True, text=True)


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own in a temporary folder, on a Unix socket only (no TCP
    port to collide with); yields a SQLAlchemy URL to an empty database, stops at teardown."""
    import psycopg2  # noqa: F401  (the test extra installs it; Optuna connects through it)
    bindir = _pg_bin()
    if os.geteuid() == 0:
        try:
            subprocess.run(["id", "-u", PG_USER], check=True, capture_output=True)
        except subprocess.CalledProcessError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", PG_USER], check=True, capture_output=True)
    # Not pytest's tmp_path: its parents are private to root, and the server user must
    # reach its folder.
    root = Path(tempfile.mkdtemp(prefix="chainrule-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    data, sock, port = root / "data", root, "5432"
    _as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                     "--no-sync", "-E", "UTF8"])
    _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                     "-o", f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off", "start"])
    try:
        _as_server_user([str(bindir / "createdb"), "-h", str(sock), "-p", port, "-U",
                         "postgres", "optuna"])
        yield f"postgresql+psycopg2://postgres@/optuna?host={sock}&port={port}"
    finally:
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                         "stop"])
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
    for p, (stdout, stderr) in zip(procs, outs):
        assert p.returncode in (0, 1), stderr
    study = load(postgres, "shared")
    complete = check_recorded_once(study, n)
    # both workers did some of the work
    workers = {t.user_attrs["worker"] for t in complete}
    print("trials per worker:", {w: sum(t.user_attrs["worker"] == w for t in complete) for w in workers})
    assert len(workers) == 2, workers


def test_a_half_written_last_record_is_cut_before_resuming(tmp_path):
    from nn.hyperparam import _drop_partial_record

    path = tmp_path / "j.journal"
    path.write_bytes(b'{"op_code":0}\n{"op_code":1}\n{"op_co')
    _drop_partial_record(str(path))
    assert path.read_bytes() == b'{"op_code":0}\n{"op_code":1}\n'
    _drop_partial_record(str(path))  # a whole journal is left alone
    assert path.read_bytes() == b'{"op_code":0}\n{"op_code":1}\n'


def test_the_tpe_sampler_runs_the_same_search(tmp_path, monkeypatch):
    from nn import hyperparam

    used = []
    real = hyperparam._make_sampler
    monkeypatch.setattr(hyperparam, "_make_sampler",
                        lambda name, seed: used.append(name) or real(name, seed))
    study = hyperparam.search(trials=4, storage=str(tmp_path / "tpe.journal"), study_name="tpe",
                              sampler="tpe", epochs=1, train_size=100, progress=False)
    assert "tpe" in used
    assert type(real("tpe", 0)).__name__ == "TPESampler"
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 4 and len({t.number for t in complete}) == 4
    with pytest.raises(ValueError, match="sampler must be 'random' or 'tpe', got 'grid'"):
        hyperparam.search(trials=1, storage=str(tmp_path / "x.journal"), study_name="x",
                          sampler="grid", epochs=1, train_size=100, progress=False)
    assert not (tmp_path / "x.journal").exists()  # refused before anything is written
