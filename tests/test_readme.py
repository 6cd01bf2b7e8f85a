"""The README's Python examples run as written."""

from __future__ import annotations

import re

import torch

from tests._reference import REPO_ROOT


def test_readme_python_examples_run():
    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    lq = namespace["lq"]
    assert isinstance(lq, torch.Tensor) and lq.shape == (8, 3, 32, 32)
