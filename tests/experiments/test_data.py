"""The digits split: fixed, disjoint, and class-balanced where the experiments ask for a subset."""

import pytest
import torch

from snippets.experiments import data


def test_the_split_is_fixed_and_disjoint():
    first, second = data.digit_splits(), data.digit_splits()
    assert torch.equal(first.val.x, second.val.x) and torch.equal(first.train.y, second.train.y)
    facts = data.facts()
    assert (facts["n_images"], facts["n_pool"], facts["n_val"], facts["n_test"]) == (1797, 1077, 360, 360)
    # Together the three sets are exactly the whole data set: a partition, no image twice.
    from sklearn.datasets import load_digits

    images = sorted(tuple(row) for row in (load_digits().data / 16).tolist())  # k/16: exact in float32
    split_rows = sorted(tuple(x.flatten().tolist()) for s in (first.train, first.val, first.test) for x in s.x)
    assert split_rows == images
    # Pixels in 0..1; images as 1x8x8 for a CNN and as 8 rows of 8 pixels for an RNN.
    assert first.train.x.shape[1:] == (1, 8, 8) and 0 <= first.train.x.min() and first.train.x.max() == 1
    assert data.digit_splits(sequences=True).val.x.shape[1:] == (8, 8)


def test_a_subset_has_the_same_number_of_images_of_every_class():
    small = data.digit_splits(n_train=100)
    assert small.train.y.bincount().tolist() == [10] * 10
    # ... taken from the same pool, and the validation set does not change.
    pool = {tuple(x.flatten().tolist()) for x in data.digit_splits().train.x}
    assert all(tuple(x.flatten().tolist()) in pool for x in small.train.x)
    assert torch.equal(small.val.y, data.digit_splits().val.y)


@pytest.mark.parametrize("n_train", [0, 15, 5000])
def test_a_subset_size_that_cannot_be_balanced_is_refused(n_train):
    with pytest.raises(ValueError, match="n_train must be a multiple of 10"):
        data.digit_splits(n_train=n_train)
