"""VGG19 feature stack for perceptual losses, loadable from torchvision's ImageNet checkpoint.

The module's ``features`` is an ``nn.Sequential`` whose layer indices and state-dict names
(``features.0.weight`` ... ``features.34.bias``) are those of torchvision's ``vgg19().features``,
so the published checkpoint ``vgg19-dcbb9e9d.pth`` loads into it directly (its ``classifier.*``
entries are ignored). torchvision itself is not needed. Layers are named as in BasicSR
(``conv1_1``, ``relu1_1``, ``pool1``, ...); a feature named ``convX_Y`` is the convolution output
before its ReLU.

Nothing is downloaded: the weights come from a local file (see :func:`vgg19_weights_file`).

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (2015), configuration E; torchvision ``models.vgg19``; BasicSR ``VGGFeatureExtractor``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn

VGG19_FILENAME = "vgg19-dcbb9e9d.pth"

# Channels of configuration E; "M" is a 2x2 max-pool.
_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    block, conv = 1, 1
    for item in _CFG:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


VGG19_LAYER_NAMES: tuple[str, ...] = _layer_names()
"""The 37 layer names of ``vgg19().features``, in index order (``conv1_1`` is index 0)."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg19_weights_file(weights_path: str | os.PathLike[str] | None = None) -> Path:
    """The local VGG19 checkpoint to load.

    An explicit ``weights_path`` is used as given. Otherwise the file is torchvision's cache entry
    ``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth`` (``TORCH_HOME`` defaults to
    ``~/.cache/torch``; ``torch.hub.get_dir()`` gives the hub folder).

    Args:
        weights_path: an explicit checkpoint path, or None for the torch hub cache.

    Returns:
        The path of an existing file.

    Raises:
        FileNotFoundError: one line naming the expected file (nothing is downloaded).
    """
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights not found: {path} (configured path)")
        return path
    path = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME
    if not path.is_file():
        raise FileNotFoundError(
            f"VGG19 weights not found: {path}; place torchvision's {VGG19_FILENAME} there "
            "(or set TORCH_HOME, or pass a weights path); nothing is downloaded"
        )
    return path


class VGG19Features(nn.Module):
    """The first ``num_layers`` layers of VGG19's ``features`` stack, returning named activations.

    Args:
        last_layer: the deepest layer kept (a name from :data:`VGG19_LAYER_NAMES`); the layers
            after it are not built.
        use_input_norm: normalise the input with the ImageNet mean and std (input in [0, 1]).
        range_norm: map an input in [-1, 1] to [0, 1] first.

    Shape:
        x: ``(N, 3, H, W)``; each returned feature ``(N, C_l, H_l, W_l)``.

    Example:
        >>> net = VGG19Features(last_layer="conv2_2")
        >>> feats = net(torch.rand(1, 3, 16, 16), ["conv1_2", "conv2_2"])
        >>> [tuple(f.shape) for f in feats.values()]
        [(1, 64, 16, 16), (1, 128, 8, 8)]
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self,
        *,
        last_layer: str = "pool5",
        use_input_norm: bool = True,
        range_norm: bool = False,
    ) -> None:
        super().__init__()
        if last_layer not in VGG19_LAYER_NAMES:
            raise ValueError(
                f"unknown VGG19 layer {last_layer!r}; expected one of {', '.join(VGG19_LAYER_NAMES)}"
            )
        self.last_layer = last_layer
        self.use_input_norm = use_input_norm
        self.range_norm = range_norm
        num_layers = VGG19_LAYER_NAMES.index(last_layer) + 1
        layers: list[nn.Module] = []
        in_ch = 3
        for item in _CFG:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out_ch = int(item)
                layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.ReLU()]
                in_ch = out_ch
        self.features = nn.Sequential(*layers[:num_layers])
        self.layer_names = VGG19_LAYER_NAMES[:num_layers]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def load_torchvision_weights(self, path: str | os.PathLike[str]) -> None:
        """Load the ``features.*`` entries of a torchvision VGG19 state dict (``weights_only``).

        Raises:
            ValueError: one line naming the file when entries are missing or misshapen.
        """
        path = Path(path)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{path}: not a loadable VGG19 checkpoint ({exc})") from exc
        if not isinstance(state, dict):
            raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
        own = self.features.state_dict()
        wanted = {}
        for key, value in own.items():
            full = f"features.{key}"
            if full not in state:
                raise ValueError(f"{path}: missing {full!r}; not a torchvision VGG19 checkpoint")
            if tuple(state[full].shape) != tuple(value.shape):
                raise ValueError(
                    f"{path}: {full!r} has shape {tuple(state[full].shape)}, "
                    f"expected {tuple(value.shape)}; not a VGG19 checkpoint"
                )
            wanted[key] = state[full]
        self.features.load_state_dict(wanted, strict=True)

    def forward(self, x: Tensor, names: Iterable[str]) -> dict[str, Tensor]:
        """Activations of the named layers, in network order.

        Args:
            x: images in [0, 1] (or [-1, 1] with ``range_norm``).
            names: layer names, all at or before ``last_layer``.

        Returns:
            ``{name: activation}``.
        """
        wanted = set(names)
        unknown = wanted.difference(self.layer_names)
        if unknown:
            raise ValueError(
                f"VGG19 layers {sorted(unknown)} are not in this stack (ends at {self.last_layer!r})"
            )
        if self.range_norm:
            x = (x + 1) / 2
        if self.use_input_norm:
            x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        out: dict[str, Tensor] = {}
        returned = False  # whether x is a returned activation (then the next ReLU copies)
        for name, layer in zip(self.layer_names, self.features, strict=True):
            if isinstance(layer, nn.ReLU):
                # In place on a convolution output (its backward does not need it) unless that
                # output is returned as a ``convX_Y`` feature.
                x = torch.relu(x) if returned else torch.relu_(x)
            else:
                x = layer(x)
            returned = name in wanted
            if returned:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out
