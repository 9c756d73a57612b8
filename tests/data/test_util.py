"""nn.util: the book's smooth_curve and shuffle_dataset (common/util.py)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nn import shuffle_dataset, smooth_curve

curves = hnp.arrays(np.float64, st.integers(11, 60),
                    elements=st.floats(-1e3, 1e3, allow_nan=False))


@given(curves)
def test_smooth_curve_is_the_books_weighted_mean_with_its_mirrored_ends(x):
    # By the definition, point by point: a Kaiser (beta 2) weighted mean of x[i-5 .. i+5],
    # where x[-j] stands for x[j] on the left and x[n-1+j] for x[n-j] on the right.
    n, w = len(x), np.kaiser(11, 2)

    def at(k):
        return x[-k] if k < 0 else x[2 * n - 1 - k] if k >= n else x[k]
    expected = [sum(w[j] * at(i - 5 + j) for j in range(11)) / w.sum() for i in range(n)]
    np.testing.assert_allclose(smooth_curve(x), expected, rtol=1e-12, atol=1e-9)


def test_smooth_curve_keeps_a_straight_line_away_from_the_ends_and_refuses_short_curves():
    line = np.arange(40.0)
    np.testing.assert_allclose(smooth_curve(line)[5:-5], line[5:-5], atol=1e-12)
    assert smooth_curve([2.5] * 20).tolist() == pytest.approx([2.5] * 20)
    with pytest.raises(ValueError, match="at least 11 points, got shape \\(10,\\)"):
        smooth_curve(np.ones(10))


def test_shuffle_dataset_moves_images_and_labels_together_and_leaves_the_inputs_alone():
    x = np.arange(24.0).reshape(6, 1, 2, 2)
    t = np.arange(6)
    x0, t0 = x.copy(), t.copy()
    xs, ts = shuffle_dataset(x, t, np.random.default_rng(3))
    assert sorted(ts.tolist()) == list(range(6)) and ts.tolist() != list(range(6))
    for image, label in zip(xs, ts):  # each image still beside its own label
        assert np.array_equal(image, x[label])
    assert np.array_equal(x, x0) and np.array_equal(t, t0)
    again = shuffle_dataset(x, t, np.random.default_rng(3))
    assert np.array_equal(again[1], ts)
    state = np.random.get_state()  # without rng: numpy's global generator, as the book's
    first = shuffle_dataset(x, t)[1]
    np.random.set_state(state)  # (and the other tests find it as they left it)
    assert np.array_equal(shuffle_dataset(x, t)[1], first)
    with pytest.raises(ValueError, match="one label per sample"):
        shuffle_dataset(x, t[:5])
