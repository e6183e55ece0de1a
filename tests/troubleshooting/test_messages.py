"""The troubleshooting page quotes PyTorch's messages word for word: each test triggers the message
the way the page does and compares the exact text torch 2.13 emits, so the page fails its tests
the day torch rewords one. The fixes shown are checked to silence the message."""

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from snippets.troubleshooting import messages as m

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting" / "messages.md"

ONE_VALUE = "Expected more than 1 value per channel when training, got input size torch.Size([1, 8, 1, 1])"
LSTM = (
    "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
    "num_layers greater than 1, but got dropout=0.3 and num_layers=1"
)
DROPOUT2D_3D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
    "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
    "will change in a future release to interpret the input as one without a batch dimension, i.e. "
    "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
    "dropout1d instead."
)
DROPOUT2D_2D = (
    "dropout2d: Received a 2-D input to dropout2d, which is deprecated and will result in an error in "
    "a future release. To retain the behavior and silence this warning, please use dropout instead. "
    "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
    "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs)."
)
INPLACE = (
    "one of the variables needed for gradient computation has been modified by an inplace operation: "
    "[torch.FloatTensor [3, 4]], which is output 0 of Sigmoid, is at version 1; expected version 0 "
    "instead. Hint: enable anomaly detection to find the operation that failed to compute its "
    "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
)
STATE_DICT = (
    "Error(s) in loading state_dict for Sequential:\n\tUnexpected key(s) in state_dict: "
    '"0.running_mean", "0.running_var", "0.num_batches_tracked". '
)
INSTANCE_NORM = "Expected more than 1 spatial element when training, got input size torch.Size([2, 8, 1, 1])"
# The short ones, and the headings of the page: every one must be on the page word for word.
HEADINGS = [
    "Expected more than 1 value per channel when training",
    "dropout option adds dropout after all but last recurrent layer",
    "dropout2d: Received a 3D input to dropout2d",
    "dropout2d: Received a 2-D input to dropout2d",
    "running_mean should contain 4 elements not 8",
    "expected 4D input (got 3D input)",
    "expected 2D or 3D input (got 4D input)",
    "one of the variables needed for gradient computation has been modified by an inplace operation",
    "dropout probability has to be between 0 and 1, but got 20",
    "Unexpected key(s) in state_dict",
    "num_channels (8) must be divisible by num_groups (3)",
    "Expected more than 1 spatial element when training",
]


def test_the_helpers_catch_and_refuse_silence():
    with pytest.raises(AssertionError, match="no error"):
        m.error_text(lambda: None)
    assert m.warning_texts(lambda: None) == []
    assert m.wrap("a " * 40).count("\n") == 1


def test_one_value_per_channel_exact_text_and_fixes():
    head = m.pooled_head()
    assert m.error_text(lambda: head(torch.randn(1, 8, 5, 5))) == ONE_VALUE
    assert m.error_text(lambda: nn.BatchNorm1d(8)(torch.randn(1, 8))) == ONE_VALUE.replace(", 1, 1]", "]")
    assert m.batch_sizes(9, 4, drop_last=False) == [4, 4, 1]
    assert m.batch_sizes(9, 4, drop_last=True) == [4, 4]
    assert head(torch.randn(2, 8, 5, 5)).shape == (2, 8, 1, 1)  # two examples are enough to train
    assert head.eval()(torch.randn(1, 8, 5, 5)).shape == (1, 8, 1, 1)  # eval mode: running statistics


@pytest.mark.claim("troubleshooting/one-value-counts-values-not-examples")
def test_one_example_with_several_positions_passes_the_check():
    """The check counts values per channel (N x H x W), not examples: BN before the pooling
    trains on a batch of one image."""
    bn = nn.BatchNorm2d(8)
    assert bn(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)
    assert m.error_text(lambda: bn(torch.randn(1, 8, 1, 1))) == ONE_VALUE


def test_lstm_warning_exact_text():
    assert m.warning_texts(lambda: nn.LSTM(16, 32, dropout=0.3)) == [LSTM]
    assert m.warning_texts(lambda: nn.LSTM(16, 32, num_layers=2, dropout=0.3)) == []


@pytest.mark.claim("troubleshooting/one-layer-lstm-drops-nothing")
def test_a_one_layer_lstm_with_dropout_drops_nothing():
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        lstm = nn.LSTM(16, 32, dropout=0.3, batch_first=True)
    x = torch.randn(4, 7, 16)
    train_out, _ = lstm(x)
    eval_out, _ = lstm.eval()(x)
    assert torch.equal(train_out, eval_out)


def test_dropout2d_warnings_exact_text():
    assert m.warning_texts(lambda: nn.Dropout2d(0.5)(torch.ones(4, 16, 50))) == [DROPOUT2D_3D]
    assert m.warning_texts(lambda: nn.Dropout2d(0.5)(torch.ones(4, 16))) == [DROPOUT2D_2D]
    assert m.warning_texts(lambda: nn.Dropout1d(0.5)(torch.ones(4, 16, 50))) == []
    assert m.warning_texts(lambda: nn.Dropout2d(0.5)(torch.ones(1, 16, 8, 8))) == []


@pytest.mark.claim("troubleshooting/dropout2d-3d-drops-rows")
def test_dropout2d_on_3d_input_drops_whole_rows_like_dropout1d():
    """Today a (N, C, L) input loses whole channels x[n, c, :], as with Dropout1d; a single image
    (C, H, W) would therefore be read as C examples of H rows each."""
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        y = nn.Dropout2d(0.5)(torch.ones(4, 16, 50))
    rows_zero = (y == 0).all(dim=-1)
    rows_kept = (y == 2).all(dim=-1)
    assert torch.equal(rows_zero | rows_kept, torch.ones(4, 16, dtype=torch.bool))
    assert rows_zero.any() and rows_kept.any()


@pytest.mark.claim("troubleshooting/dropout2d-2d-is-elementwise")
def test_dropout2d_on_2d_input_is_elementwise():
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        y = nn.Dropout2d(0.5)(torch.ones(64, 16))
    zero = y == 0
    mixed_rows = zero.any(dim=1) & ~zero.all(dim=1)
    mixed_cols = zero.any(dim=0) & ~zero.all(dim=0)
    assert mixed_rows.all() and mixed_cols.all()
    assert set(y.unique().tolist()) == {0.0, 2.0}


@pytest.mark.parametrize(("out_channels", "num_features"), [(4, 8), (16, 3), (1, 2)])
def test_running_mean_message_names_the_input_channels_first(out_channels, num_features):
    """'should contain <channels of the input> elements not <num_features>'."""
    x = torch.randn(2, out_channels, 3, 3)
    text = m.error_text(lambda: nn.BatchNorm2d(num_features)(x))
    assert text == f"running_mean should contain {out_channels} elements not {num_features}"


def test_running_mean_exact_text_and_fixes():
    images = torch.randn(2, 3, 8, 8)
    assert m.error_text(lambda: m.conv_block(8)(images)) == "running_mean should contain 4 elements not 8"
    assert m.conv_block(4)(images).shape == (2, 4, 8, 8)
    bn, tokens = nn.BatchNorm1d(8), torch.randn(2, 5, 8)
    assert m.error_text(lambda: bn(tokens)) == "running_mean should contain 5 elements not 8"
    out = m.normalise_sequence(bn, tokens)
    assert out.shape == tokens.shape
    # each of the 8 features is normalised over the 2 x 5 values it takes
    torch.testing.assert_close(out.mean(dim=(0, 1)), torch.zeros(8), atol=1e-5, rtol=0)


@pytest.mark.claim("troubleshooting/channels-last-silent-when-square")
def test_channels_last_is_silent_when_length_equals_channels():
    """(N, L, C) with L == C: no error, and the wrong axis is normalised."""
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(8)
    tokens = torch.randn(4, 8, 8) + torch.arange(8.0)  # feature c has mean c
    wrong = bn(tokens)  # runs
    right = m.normalise_sequence(nn.BatchNorm1d(8), tokens)
    torch.testing.assert_close(wrong.mean(dim=(0, 2)), torch.zeros(8), atol=1e-5, rtol=0)  # per time step
    assert wrong.mean(dim=(0, 1)).abs().max() > 0.1  # the features are not centred
    torch.testing.assert_close(right.mean(dim=(0, 1)), torch.zeros(8), atol=1e-5, rtol=0)


def test_dimension_messages_exact_text():
    assert m.error_text(lambda: nn.BatchNorm2d(3)(torch.randn(3, 8, 8))) == "expected 4D input (got 3D input)"
    assert m.error_text(lambda: nn.BatchNorm1d(3)(torch.randn(2, 3, 8, 8))) == "expected 2D or 3D input (got 4D input)"
    assert nn.BatchNorm2d(3)(torch.randn(3, 8, 8).unsqueeze(0)).shape == (1, 3, 8, 8)


def test_inplace_dropout_exact_text():
    x = torch.randn(3, 4, requires_grad=True)
    drop = nn.Dropout(0.5, inplace=True)
    assert m.error_text(lambda: drop(torch.sigmoid(x)).sum().backward()) == INPLACE
    nn.Dropout(0.5)(torch.sigmoid(x)).sum().backward()
    assert x.grad is not None


@pytest.mark.claim("troubleshooting/inplace-after-activations")
@pytest.mark.parametrize(
    ("activation", "name"), [(torch.relu, "Relu"), (torch.sigmoid, "Sigmoid"), (torch.tanh, "Tanh")]
)
def test_inplace_dropout_fails_after_activations_that_keep_their_output(activation, name):
    x = torch.randn(3, 4, requires_grad=True)
    text = m.error_text(lambda: nn.Dropout(0.5, inplace=True)(activation(x)).sum().backward())
    assert f"which is output 0 of {name}," in text
    y = nn.Dropout(0.5, inplace=True)(x * 2)  # after a multiplication the in-place write is harmless
    y.sum().backward()


def test_dropout_p_and_state_dict_exact_text():
    assert m.error_text(lambda: nn.Dropout(p=20)) == "dropout probability has to be between 0 and 1, but got 20"
    saved = nn.Sequential(nn.BatchNorm1d(4)).state_dict()
    rebuilt = nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False))
    assert m.error_text(lambda: rebuilt.load_state_dict(saved)) == STATE_DICT
    missing = m.error_text(lambda: nn.Sequential(nn.BatchNorm1d(4)).load_state_dict(rebuilt.state_dict()))
    assert "Missing key(s) in state_dict" in missing


def test_the_page_quotes_every_message_word_for_word():
    page = PAGE.read_text(encoding="utf-8")
    headings = "\n".join(re.findall(r"^## .*$", page, flags=re.MULTILINE))
    for text in HEADINGS:
        assert text in headings, text
    flat = " ".join(page.split())
    for text in (ONE_VALUE, LSTM, DROPOUT2D_3D, DROPOUT2D_2D, INPLACE, INSTANCE_NORM):
        assert " ".join(text.split()) in flat, text[:60]


def test_groupnorm_and_instancenorm_exact_text():
    assert m.error_text(lambda: nn.GroupNorm(3, 8)) == "num_channels (8) must be divisible by num_groups (3)"
    assert m.error_text(lambda: nn.InstanceNorm2d(8)(torch.randn(2, 8, 1, 1))) == INSTANCE_NORM
    assert nn.InstanceNorm2d(8)(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)  # before the pooling


@pytest.mark.claim("troubleshooting/groupnorm-batch-of-one")
def test_groupnorm_trains_on_a_batch_of_one_and_ignores_the_batch():
    torch.manual_seed(0)
    gn = nn.GroupNorm(4, 8)
    x, others = torch.randn(1, 8, 5, 5), torch.randn(3, 8, 5, 5) * 5 + 2
    alone = gn(x)
    torch.testing.assert_close(gn(torch.cat([x, others]))[:1], alone)
    assert nn.GroupNorm(4, 8)(torch.randn(1, 8, 1, 1)).shape == (1, 8, 1, 1)  # 2 channels a group: enough
