"""Histogram discretization and plug-in mutual information (rtc.metrics.mutual_info)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from rtc.metrics import discrete_entropy, discrete_mutual_info, histogram_discretize


def test_discretize_hand_case():
    # 2 equal-width bins over [0, 1]: edges 0, 0.5, 1; 0.5 opens the second bin; the max falls in the last.
    x = np.array([[0.0], [0.49], [0.5], [1.0]])
    assert histogram_discretize(x, 2)[:, 0].tolist() == [0, 0, 1, 1]
    # a constant latent falls in one bin
    assert np.unique(histogram_discretize(np.full((5, 1), 3.0), 20)).size == 1


def test_discretize_integer_codes_keep_distinct_values():
    x = np.arange(20, dtype=float)[:, None]  # 20 values, 20 bins → one value per bin
    assert np.unique(histogram_discretize(x, 20)).size == 20


def test_mi_hand_cases():
    a = np.array([0, 0, 1, 1])
    # identical binary variables: MI = H = log 2 (exact up to float round-off)
    assert np.isclose(discrete_mutual_info(a[:, None], a[:, None])[0, 0], np.log(2), atol=1e-15)
    # exactly independent table (each pair once): MI = 0
    b = np.array([0, 1, 0, 1])
    assert discrete_mutual_info(a[:, None], b[:, None])[0, 0] == 0.0
    assert np.allclose(discrete_entropy(np.stack([a, [0, 1, 2, 3]], 1)), [np.log(2), np.log(4)], atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=2, max_size=60))
def test_mi_matches_sklearn_and_bounds(pairs):
    a, b = np.array(pairs).T
    mi = discrete_mutual_info(a[:, None], b[:, None])[0, 0]
    # independent implementation; 1e-12: both sum ≤ 20 float64 terms of size ≤ log 60
    assert np.isclose(mi, mutual_info_score(a, b), atol=1e-12)
    h = discrete_entropy(np.stack([a, b], 1))
    assert -1e-12 <= mi <= h.min() + 1e-12
    assert np.isclose(mi, discrete_mutual_info(b[:, None], a[:, None])[0, 0], atol=1e-12)  # symmetric
