"""The FLOP counter against PyTorch's own (torch.utils.flop_counter) on the PyTorch
port of the reference (`keras_drn.reference`)."""

import pytest

from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models.flops import count_flops
from keras_drn.models.flops import count_macs

# drn.py runs DRN-C-58's level-7 projection (1x1, 2048 -> 512 at stride 8) and drops
# its result (residual=False); keras_drn keeps the weights but does not compute it.
UNUSED_FLOPS = {"drn_c_58": 2 * (64 // 8) * (96 // 8) * 2048 * 512}


@pytest.mark.parametrize("arch", ["drn_d_22", "drn_c_58", "drn_a_50"])
def test_flops_equal_torch_flop_counter(arch, torch_reference):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    ref = torch_reference.TorchDRNSeg(torch_reference.build(arch), 19).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        ref(torch.zeros(1, 3, 64, 96))
    model = build_drnseg(arch, 19, input_shape=(64, 96, 3))
    assert count_flops(model) + UNUSED_FLOPS.get(arch, 0) == counter.get_total_flops()


def test_needs_static_shapes():
    with pytest.raises(ValueError, match="static shapes"):
        count_macs(build_drn("drn_d_22"))
