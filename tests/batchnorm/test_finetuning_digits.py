"""BatchNorm statistics after a change of data, measured on the digits: what the fine-tuning page
says about freezing and re-estimating them."""

import pytest
import torch

from snippets.batchnorm import finetuning_digits


@pytest.fixture(scope="module")
def facts():
    """Computed here, not read from a store: one epoch of training on one thread, about 0.3 s
    of CPU once torch is warm."""
    return finetuning_digits.facts()


def test_the_new_scanner_keeps_the_digits_and_changes_contrast_and_background():
    images = torch.tensor([[0.0, 0.5, 1.0]])
    torch.testing.assert_close(finetuning_digits.new_scanner(images), torch.tensor([[0.3, 0.55, 0.8]]))


@pytest.mark.claim("batchnorm/frozen-statistics-fail-on-new-data")
def test_the_pretrained_statistics_fail_on_the_new_scanner(facts):
    assert facts["old_data"] > 90
    assert facts["new_data"] < facts["old_data"] - 40, "the same weights, the same digits"


@pytest.mark.claim("batchnorm/reestimate-recovers-new-data")
def test_statistics_re_estimated_on_unlabelled_new_data_recover_most_of_the_accuracy(facts):
    assert facts["new_data_reestimated"] > facts["new_data"] + 40
    assert facts["new_data_reestimated"] > facts["old_data"] - 6
    # update_bn computes the same statistics (the CNN has no dropout): the same predictions
    assert facts["update_bn"] == facts["new_data_reestimated"]
    assert facts["n_unlabelled"] == 1077


@pytest.mark.claim("batchnorm/reestimate-from-two-images")
def test_two_unlabelled_images_are_enough_here(facts):
    for n in (2, 8, 32):
        assert abs(facts[f"new_data_from_{n}"] - facts["new_data_reestimated"]) < 3, n
    # and the re-estimated network still reads the old scanner's digits
    assert facts["old_data_reestimated"] > 85


def test_reestimation_leaves_the_weights_and_the_original_model_alone():
    model, _ = finetuning_digits.pretrained()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copied = finetuning_digits.reestimated(model, torch.rand(4, 1, 8, 8))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the original"
    for name, value in copied.state_dict().items():
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(value, before[name]), name
    assert not torch.equal(copied[1].running_mean, before["1.running_mean"])
    assert int(copied[1].num_batches_tracked) == 1
