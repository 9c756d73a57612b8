"""What README's examples write into the project folder is ignored by git."""
import subprocess
from pathlib import Path

import pytest


@pytest.mark.parametrize("name", ["curves.png", "filters.png", "optimizers.png", "run.json",
                                  "price.html", "weights.npz", "notebooks/apple_orange.html"])
def test_files_the_readme_examples_write_are_ignored_by_git(name):
    # item 39; the figures the docs show (docs/*.png) stay tracked.
    root = Path(__file__).resolve().parents[2]
    ignored = ["git", "check-ignore", "-q", "--no-index"]
    assert subprocess.run(ignored + [name], cwd=root, check=False).returncode == 0
    assert subprocess.run(ignored + ["docs/explorer.png"], cwd=root, check=False).returncode == 1
