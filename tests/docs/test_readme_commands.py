"""README.md's commands stay true: CI runs the test command exactly as README gives it (with
the data folder in the command itself), and the commands the docs give for the BLAS look-up
and the notebooks run and name an extra that exists."""
import configparser
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
SPEED = (REPO / "docs" / "speed.md").read_text(encoding="utf-8")
NOTEBOOKS = (REPO / "docs" / "notebooks.md").read_text(encoding="utf-8")


def bash_blocks(text=README):
    return re.findall(r"```bash\n(.*?)\n```", text, re.S)


def test_ci_runs_the_readme_test_command_exactly():
    [test_command] = [b for b in bash_blocks() if "pytest" in b]
    # The data folder is set in the command itself: no export needed to run every test.
    assert re.search(r"&& CHAINRULE_DATA=\S+ \.venv/bin/python -m pytest$", test_command)
    last_line = (REPO / ".ci" / "run").read_text().rstrip("\n").splitlines()[-1]
    assert last_line == test_command


def test_the_blas_look_up_shown_runs():
    [command] = [b for b in bash_blocks(SPEED) if "threadpool_info" in b]
    code = re.search(r'-c "(.*)"', command).group(1)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "'user_api': 'blas'" in run.stdout


def test_the_notebooks_extra_exists():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    extras = config["options.extras_require"]
    assert "jupyterlab" in extras["notebooks"]
    assert '".[notebooks]"' in NOTEBOOKS and "jupyter lab notebooks/" in NOTEBOOKS
