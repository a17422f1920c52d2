"""locus.transforms: exact, function-preserving neuron surgery on MLPs of any depth.

Every function takes a model (locus.Mlp) and its flat params and returns a new (model, params)
with the same network function (to round-off where weights are multiplied or added, bit for bit
where they only move). Hidden layers are numbered from 1 (the first hidden layer), neurons from 0.
Bad input (a layer or neuron out of range, fractions not summing to 1, a params vector of the
wrong length, ...) raises ValueError naming it.

    import locus, locus.transforms as lt
    model = locus.Mlp([3, 5, 4, 2], activation="tanh")
    params = model.init_parameters(seed=1)
    wide, p2 = lt.split_neuron(model, params, layer=1, neuron=2, fractions=[0.25, 0.75])
    back, p3 = lt.merge_neurons(wide, p2, layer=1, keep=2, other=5)

split_critical_point(model, params, x, y, layer, neuron, fractions, **options) splits a
neuron of a critical point and reports criticality, loss and Hessian inertia before and after
(Simsek et al. 2021; Fukumizu & Amari 2000).
"""

from ._core import _transforms as _t

Surgery = _t.Surgery
ShrinkResult = _t.ShrinkResult
SplitCheck = _t.SplitCheck
neuron_indices = _t.neuron_indices
neuron_weights = _t.neuron_weights
split_neuron = _t.split_neuron
merge_neurons = _t.merge_neurons
add_zero_neuron = _t.add_zero_neuron
add_zero_group = _t.add_zero_group
remove_neuron = _t.remove_neuron
permute_neurons = _t.permute_neurons
inverse_permutation = _t.inverse_permutation
grow = _t.grow
shrink = _t.shrink
split_critical_point = _t.split_critical_point

__all__ = [
    "Surgery", "ShrinkResult", "SplitCheck", "neuron_indices", "neuron_weights", "split_neuron",
    "merge_neurons", "add_zero_neuron", "add_zero_group", "remove_neuron", "permute_neurons",
    "inverse_permutation", "grow", "shrink", "split_critical_point",
]
