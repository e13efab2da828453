"""The FLOP counter against PyTorch's own (torch.utils.flop_counter) on the
independent reference implementation."""

import pytest

from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models.flops import count_flops
from keras_drn.models.flops import count_macs


@pytest.mark.parametrize("arch", ["drn_d_22", "drn_c_58", "drn_a_50"])
def test_flops_equal_torch_flop_counter(arch, torch_reference):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    ref = torch_reference.TorchDRNSeg(torch_reference.build(arch), 19).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        ref(torch.zeros(1, 3, 64, 96))
    model = build_drnseg(arch, 19, input_shape=(64, 96, 3))
    assert count_flops(model) == counter.get_total_flops()


def test_needs_static_shapes():
    with pytest.raises(ValueError, match="static shapes"):
        count_macs(build_drn("drn_d_22"))
