import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.cnn import exercises as ex


@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 3), padding=st.integers(0, 3))
@settings(max_examples=50, deadline=None)
@example(size=2, kernel=5, stride=1, padding=1)  # always one kernel too large (100 % coverage)
def test_output_side_formula_matches_conv2d(size, kernel, stride, padding):
    if size + 2 * padding < kernel:
        with pytest.raises(ValueError, match="larger than the padded input"):
            ex.conv_output_side(size, kernel, stride, padding)
        return
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    side = conv(torch.zeros(1, 1, size, size)).shape[-1]
    assert ex.conv_output_side(size, kernel, stride, padding) == side


@given(c_in=st.integers(1, 8), c_out=st.integers(1, 8), kernel=st.integers(1, 5), bias=st.booleans())
@settings(max_examples=50, deadline=None)
def test_parameter_count_matches_conv2d(c_in, c_out, kernel, bias):
    conv = nn.Conv2d(c_in, c_out, kernel, bias=bias)
    assert ex.conv_params(c_in, c_out, kernel, bias) == sum(p.numel() for p in conv.parameters())


def test_exercise_1_numbers():
    facts = ex.facts()
    assert (facts["ex1_side"], facts["ex1_weights"], facts["ex1_params"]) == (16, 1200, 1216)
    assert facts["same_padding"] == [1, 2, 3]


def test_exercise_2_dropout_only_after_the_last_batchnorm_and_not_in_the_first_block():
    model = ex.regularized_cnn()
    kinds = [type(m) for m in model]
    last_bn = max(i for i, k in enumerate(kinds) if k is nn.BatchNorm2d)
    first_pool = kinds.index(nn.MaxPool2d)
    dropouts = [i for i, k in enumerate(kinds) if k in (nn.Dropout, nn.Dropout2d)]
    assert dropouts and min(dropouts) > last_bn > first_pool
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.5, 0.5] == [ex.facts()["p_fc"]] * 2
    assert [m.p for m in model if isinstance(m, nn.Dropout2d)] == [0.1]
    # every conv is 3x3 (the page talks about the next 3 x 3 convolution)
    assert {m.kernel_size for m in model if isinstance(m, nn.Conv2d)} == {(ex.facts()["kernel"],) * 2}


def test_exercise_2_eval_mode_equals_the_given_network_with_the_same_weights():
    torch.manual_seed(0)
    given_model, placed = ex.given_cnn().eval(), ex.regularized_cnn().eval()
    layers = [m for m in placed if not isinstance(m, (nn.Dropout, nn.Dropout2d))]
    for mine, theirs in zip(layers, given_model):
        mine.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(placed(x), given_model(x))


def test_exercise_2_and_4_parameter_counts():
    facts = ex.facts()
    assert facts["conv_params"] == 864 + 64 + 18_432 + 128
    assert facts["head_params"] == 4096 * 256 + 256 + 256 * 10 + 10
    assert facts["head_share"] == pytest.approx(0.982, abs=0.001)
    assert facts["gap_head"] == 64 * 10 + 10
    assert ex.parameter_split(ex.gap_cnn())[0] == facts["conv_params"]
    # the shapes the page names: 32 x 32 input, 64 maps of 8 x 8 before the head
    features = ex.given_cnn()[:8](torch.zeros(1, 3, facts["image_side"], facts["image_side"]))
    assert features.shape == (1, facts["channels"], facts["map_side"], facts["map_side"])
    assert ex.gap_cnn()(torch.zeros(1, 3, 32, 32)).shape == (1, facts["classes"])


def test_exercise_3_switches_and_planes():
    facts = ex.facts()
    assert (facts["element_switches"], facts["channel_switches"]) == (524_288, 2_048)
    assert facts["expected_zeros"] == 52_429
    torch.manual_seed(1)
    x = torch.rand(4, 16, 5, 5) + 0.1
    assert ex.channel_planes(nn.Dropout2d(0.5)(x))[1] == 0  # never a partly dropped channel
    assert ex.channel_planes(x) == (0, 0)


def test_bad_conv_arguments_are_refused():
    with pytest.raises(ValueError, match="kernel=0, stride=1, padding=0"):
        ex.conv_output_side(8, 0)
    with pytest.raises(ValueError, match="padding=-1"):
        ex.conv_output_side(8, 3, padding=-1)
