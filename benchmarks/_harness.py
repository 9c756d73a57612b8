"""What the benchmark scripts share: a clean BLAS environment, a header saying what runs,
side-by-side timing in one run, tables.  A script calls ``clean_env()`` before ``import numpy``.
"""
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

# Some machines set these because older OpenBLAS builds failed on their CPUs; with a current
# numpy they pick slower kernels.  Benchmarks unset them for themselves only.
FORCED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def clean_env():
    """Re-execute this script without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, if either is set.

    OpenBLAS reads them when numpy loads it, so this must run before ``import numpy``.
    """
    if any(name in os.environ for name in FORCED):
        env = {k: v for k, v in os.environ.items() if k not in FORCED}
        env["BENCH_UNSET"] = " ".join(f"{k}={os.environ[k]}" for k in FORCED if k in os.environ)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def optional(module):
    """The module, or None (with a note) when the ``bench`` extra is not installed."""
    try:
        return __import__(module)
    except ImportError:
        print(f'note: {module} is not installed, its rows are skipped (pip install -e ".[bench]")')
        return None


def header(title):
    """Print what runs: CPU, versions, BLAS kernels and thread counts."""
    import numpy  # noqa: F401 -- its BLAS is what threadpool_info reports
    from threadpoolctl import threadpool_info

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                if line.startswith("model name")), platform.machine())
    print(f"# {title}\n\n- {cpu}, {len(os.sched_getaffinity(0))} usable CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- python {platform.python_version()}, " + ", ".join(
        f"{name} {metadata.version(name)}" for name in ("numpy", "torch", "micrograd")
        if name in sys.modules))
    for lib in threadpool_info():
        what = " ".join(filter(None, (lib["internal_api"], lib.get("version"),
                                      lib.get("architecture"))))
        print(f"- {lib['user_api']}: {what}, {lib['num_threads']} threads "
              f"({Path(lib['filepath']).name})")
    if "torch" in sys.modules:
        print(f"- torch: {sys.modules['torch'].get_num_threads()} intra-op threads")
    print(f"- {', '.join(FORCED)}: " + (f"the caller's {os.environ['BENCH_UNSET']} unset for "
          f"this run" if "BENCH_UNSET" in os.environ else "not set") + "\n")


def set_threads(n):
    """n threads for numpy's BLAS and, if it is loaded, PyTorch."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def compare(configs, rounds, calls, warmup=True, clock=time.perf_counter):
    """Time configs side by side: {name: (threads, fn)} -> {name: [seconds per call, per round]}.

    Each round runs every config for ``calls`` calls (after an untimed one if ``warmup``), in
    an order that rotates from round to round, so that all see the same machine.  ``clock``:
    wall time by default; ``time.thread_time`` counts only this thread's CPU time, which
    other processes on the machine do not stretch (for configs running on one thread).
    """
    names = list(configs)
    times = {name: [] for name in names}
    previous = 1  # threads of the block before
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            threads, fn = configs[name]
            set_threads(threads)
            if max(threads, previous) > 1:
                time.sleep(0.2)  # until idle BLAS and OpenMP threads stop spinning on the cores
            previous = threads
            if warmup:
                fn()
            start = clock()
            for _ in range(calls):
                fn()
            times[name].append((clock() - start) / calls)
    return times


median = statistics.median


def ratio(times, a, b):
    """Median over rounds of a's time / b's time in the same round."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def fastest(times, prefix):
    """The name starting with ``prefix`` whose median time is lowest."""
    return min((name for name in times if name.startswith(prefix)), key=lambda n: median(times[n]))


def table(headers, rows):
    """Print a Markdown table; cells are strings or numbers."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print()


def versus(ratio, target):
    """Cells for a ratio and its target; none when the ratio could not be measured."""
    return [] if ratio is None else [f"{ratio:.2f}x", f"<= {target}x: "
                                     + ("met" if ratio <= target else "NOT met")]
