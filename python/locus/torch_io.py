"""PyTorch round trip: an ``nn.Sequential`` of ``Linear`` layers and one activation <-> locus.

    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
    model, params = locus.from_torch(net)        # Mlp([64, 32, 10], "tanh"), float64 params
    net2 = locus.to_torch(model, params)         # the same network, float64

locus's flat parameter vector is, layer by layer, the weight W (out x in, row-major, as
``Linear.weight``) and then the bias, so the conversion copies tensors without reordering them.
torch is imported only inside these functions: locus does not depend on it.

Activations map to locus's by their definitions (core/activation.hpp):

    torch               locus      note
    Tanh                tanh
    Sigmoid             sigmoid
    ReLU                relu
    Softplus(beta=1)    softplus   torch returns x where x > threshold (20 by default), which
                                   differs from log(1 + e^x) by at most e^-threshold
    GELU()              gelu       approximate="none" only (x Phi(x))
    (none)              identity   Linear layers directly after each other

locus's erf, smoolu and g have no torch module, and a mean-field Mlp's 1/h_L output scale none
either: to_torch raises ValueError for them. safetensors files written by ``locus.save_model``
use torch's ``nn.Sequential`` keys (``0.weight``, ``0.bias``, ``2.weight``, ...), dtype F64 and
the activation in ``__metadata__``, so ``to_torch(model, params).load_state_dict`` reads them
and ``locus.load_model`` reads a state dict saved the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import Mlp

# torch module class name -> locus activation name.
_ACTIVATIONS = {
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "ReLU": "relu",
    "Softplus": "softplus",
    "GELU": "gelu",
}


def _activation_name(layer: Any, index: int) -> str:
    kind = type(layer).__name__
    if kind not in _ACTIVATIONS:
        raise ValueError(
            f"from_torch: layer {index} is {kind}: locus converts nn.Sequential of Linear layers "
            f"and one activation of {', '.join(sorted(_ACTIVATIONS))}"
        )
    if kind == "Softplus" and (layer.beta != 1 or layer.threshold < 20):
        raise ValueError(
            f"from_torch: layer {index} is Softplus(beta={layer.beta}, "
            f"threshold={layer.threshold}): locus's softplus is log(1 + e^x), i.e. beta = 1 "
            "(threshold >= 20)"
        )
    if kind == "GELU" and getattr(layer, "approximate", "none") != "none":
        raise ValueError(
            f"from_torch: layer {index} is GELU(approximate={layer.approximate!r}): locus's gelu "
            "is the exact x Phi(x) (approximate='none')"
        )
    return _ACTIVATIONS[kind]


def from_torch(module: Any) -> tuple[Mlp, np.ndarray]:
    """(Mlp, params) of an ``nn.Sequential`` of ``Linear`` layers with one hidden activation.

    The Sequential is Linear, act, Linear, act, ..., Linear (or Linear layers only, possibly
    separated by nn.Identity: locus's identity activation). params is float64 in locus's layout
    (layer by layer: W row-major, then b); tensors of another dtype are converted to float64
    (exact from float32 and float16). A Linear without a bias gives a layer without bias
    (Mlp.bias). ValueError naming the layer for a non-finite weight or bias and for anything
    else: another module type, two different activations, an activation first, last or twice
    in a row, or widths that do not chain.
    """
    import torch

    if not isinstance(module, torch.nn.Sequential):
        raise ValueError(f"from_torch: expected torch.nn.Sequential, got {type(module).__name__}")
    layers = [(i, l) for i, l in enumerate(module) if not isinstance(l, torch.nn.Identity)]
    linears = [(i, l) for i, l in layers if isinstance(l, torch.nn.Linear)]
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    activations = [(i, l) for i, l in layers if not isinstance(l, torch.nn.Linear)]
    names = {_activation_name(l, i) for i, l in activations}
    if len(names) > 1:
        raise ValueError(f"from_torch: mixed activations {sorted(names)}: a locus Mlp has one")
    if activations:
        last_i, last = layers[-1]
        if not isinstance(last, torch.nn.Linear):
            raise ValueError(
                f"from_torch: layer {last_i} ({type(last).__name__}) follows the last Linear: "
                "locus's output layer is linear"
            )
        # Linear, act, Linear, ..., Linear: Linear at the even positions, act at the odd ones.
        for k, (i, l) in enumerate(layers):
            if isinstance(l, torch.nn.Linear) != (k % 2 == 0):
                raise ValueError(
                    f"from_torch: layer {i} ({type(l).__name__}) breaks the pattern Linear, "
                    f"{type(activations[0][1]).__name__}, Linear, ..., Linear"
                )
    widths = [linears[0][1].in_features]
    bias: list[bool] = []
    tensors: list[np.ndarray] = []
    for i, l in linears:
        if l.in_features != widths[-1]:
            raise ValueError(
                f"from_torch: layer {i} takes {l.in_features} inputs but the previous Linear "
                f"gives {widths[-1]}"
            )
        widths.append(l.out_features)
        bias.append(l.bias is not None)
        for name, t in (("weight", l.weight), ("bias", l.bias)):
            if t is None:
                continue
            values = t.detach().to("cpu", torch.float64).numpy().reshape(-1)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise ValueError(f"from_torch: layer {i} (Linear) {name} has a non-finite entry "
                                 f"at flat index {bad[0]} ({values[bad[0]]})")
            tensors.append(values)
    activation = names.pop() if names else "identity"
    model = Mlp(widths, activation=activation, bias=bias)
    return model, np.concatenate(tensors).astype(np.float64, copy=True)


def to_torch(model: Mlp, params: Any) -> Any:
    """The float64 ``nn.Sequential`` (Linear, activation, Linear, ...) computing model at params.

    Its state dict uses the keys locus.save_model writes (``0.weight``, ``0.bias``, ``2.weight``,
    ...). ValueError for a params vector of the wrong length or with a non-finite entry, a
    mean-field model, or an activation torch has no module for (erf, smoolu, g).
    """
    import torch

    theta = np.asarray(params, dtype=np.float64).reshape(-1)
    if theta.size != model.n_params:
        raise ValueError(f"to_torch: params has {theta.size} entries, the model {model.n_params}")
    bad = np.flatnonzero(~np.isfinite(theta))
    if bad.size:
        raise ValueError(f"to_torch: params[{bad[0]}] is non-finite ({theta[bad[0]]})")
    if model.mean_field:
        raise ValueError("to_torch: a mean-field Mlp (output scaled by 1/h_L) has no plain "
                         "nn.Sequential form")
    act = model.activation
    modules = {v: k for k, v in _ACTIVATIONS.items()}
    if act != "identity" and act not in modules:
        raise ValueError(f"to_torch: torch has no module for locus's activation '{act}'")
    layers: list[Any] = []
    for k in range(model.n_layers):
        s = model.layer(k)
        linear = torch.nn.Linear(s["in"], s["out"], bias=s["bias"] is not None,
                                 dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(theta[s["weight"]].reshape(s["out"], s["in"])))
            if linear.bias is not None:
                linear.bias.copy_(torch.from_numpy(theta[s["bias"]]))
        layers.append(linear)
        if k + 1 < model.n_layers:
            # identity between Linear layers: torch.nn.Identity keeps the indices 0, 2, 4, ...
            layers.append(torch.nn.Identity() if act == "identity" else
                          getattr(torch.nn, modules[act])())
    return torch.nn.Sequential(*layers)
