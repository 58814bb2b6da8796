"""Input validation and sampling helpers of rtc.metrics."""
import numpy as np
import pytest
import torch
from metrics_synthetic import FactorDataset, identity_fn

from rtc.metrics import MetricInputError, sample_codes, sap, split_train_test
from rtc.metrics.sampling import as_codes, as_factors


def test_codes_validation_names_the_argument():
    with pytest.raises(MetricInputError, match="codes: must have shape"):
        as_codes(np.zeros(5))
    with pytest.raises(MetricInputError, match="row 1, column 0"):
        as_codes(np.array([[0.0], [np.nan]]))
    with pytest.raises(MetricInputError, match="numeric"):
        as_codes(np.array([["a"], ["b"]]))


def test_factors_validation():
    with pytest.raises(MetricInputError, match="integer grid indices"):
        as_factors(np.array([[0.5], [1.0]]))
    with pytest.raises(MetricInputError, match=r"factor column\(s\) \[1\]"):
        as_factors(np.array([[0, 2], [1, 2]]))
    with pytest.raises(MetricInputError, match="≥ 0"):
        as_factors(np.array([[0], [-1]]))
    assert as_factors(np.array([[0.0], [2.0]])).dtype == np.int64


def test_row_mismatch_and_torch_input():
    with pytest.raises(MetricInputError, match="3 rows but factors has 2"):
        sap(np.zeros((3, 2)), np.array([[0], [1]]), continuous=True)
    c = torch.arange(6.0).reshape(3, 2)
    assert as_codes(c).dtype == np.float64


def test_split_is_a_partition():
    c = np.arange(30.0).reshape(15, 2)
    f = np.arange(15)[:, None] % 3
    ctr, ftr, cte, fte = split_train_test(c, f, seed=1)
    assert len(cte) == 5 and len(ctr) == 10
    assert sorted(np.concatenate([ctr[:, 0], cte[:, 0]]).tolist()) == c[:, 0].tolist()
    assert np.all(ftr[:, 0] == (ctr[:, 0] / 2).astype(int) % 3)  # rows stay paired


def test_sample_codes_identity_and_reproducible():
    ds = FactorDataset((3, 4))
    c, f = sample_codes(ds, identity_fn(ds), 50, 7, batch_size=16)
    assert c.shape == (50, 2) and np.array_equal(c, f)
    c2, f2 = sample_codes(ds, identity_fn(ds), 50, 7, batch_size=50)
    assert np.array_equal(f, f2)


def test_sample_codes_bad_representation_shape():
    ds = FactorDataset((3, 4))
    with pytest.raises(MetricInputError, match="representation_fn must return shape"):
        sample_codes(ds, lambda obs: np.zeros(len(obs)), 10, 0)
