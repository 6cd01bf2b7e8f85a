from __future__ import annotations

import pytest
import torch

from degrade.seeding import derive_seed, derive_seeds, splitmix64


def test_tensor_derivation_equals_python_derivation():
    g = torch.Generator().manual_seed(0)
    keys = torch.randint(-(2**62), 2**62, (200,), generator=g, dtype=torch.int64)
    keys = torch.cat([keys, torch.tensor([0, -1, 2**63 - 1, -(2**63)])])
    for seed in (0, 1, 2**40 + 7, -3):
        expected = [derive_seed(seed, k, "blur", 3) for k in keys.tolist()]
        assert derive_seeds(seed, keys, "blur", 3).tolist() == expected


def test_seeds_distinct_across_keys_paths_and_base_seeds():
    keys = torch.arange(20000, dtype=torch.int64)
    seeds = derive_seeds(0, keys, "noise")
    assert seeds.unique().numel() == keys.numel()
    assert not torch.equal(seeds, derive_seeds(0, keys, "jpeg"))
    assert not torch.equal(seeds, derive_seeds(1, keys, "noise"))
    assert derive_seed(0, 1, 2) != derive_seed(0, 2, 1)  # order of the path matters


def test_splitmix64_known_first_output():
    # SplitMix64 seeded with 0: first output of the reference generator (Vigna's splitmix64.c).
    assert splitmix64(0) == 0xE220A8397B1DCDAF


def test_seed_bits_are_balanced():
    seeds = derive_seeds(123, torch.arange(4096, dtype=torch.int64))
    bits = torch.stack([(seeds >> i) & 1 for i in range(63)], dim=1).double()
    assert ((bits.mean(0) - 0.5).abs() < 0.05).all()


def test_keys_must_be_int64():
    with pytest.raises(TypeError, match="int64"):
        derive_seeds(0, torch.arange(3, dtype=torch.int32))


def test_derived_seed_is_a_valid_generator_seed():
    s = derive_seed(9, 1, "x")
    assert -(2**63) <= s < 2**63
    torch.Generator().manual_seed(s)
