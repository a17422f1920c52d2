"""locus.dropout: mean-field SGD, dropout stability and the dropout path (Shevchenko & Mondelli
2020; Kuditipudi et al. 2019).

A two-layer mean-field network y_N(x) = (1/N) sum_i a_i sigma(w_i . x) (``locus.Mlp(...,
mean_field=True)``) is trained by SGD with step alpha * N (``step``) on fresh teacher samples
(``train_online``) or by epochs over data (``train_epochs``). Its dropout subnetwork on a kept
set A of M neurons keeps A, multiplies their output weights by N/M and zeroes the others
(``dropout_parameters``: the same parameter layout); ``dropout_error`` averages
|L_N - L_M| over random keep sets. ``dropout_path`` joins two networks of one two-layer
architecture by the 7-segment path through their dropout subnetworks on a kept half, checks each
segment by re-evaluating the loss along it, and reports the excess against the bound
max(eps_D(theta; A), eps_D(theta'; A)) with the straight line's profile beside it.

Two hidden layers (``locus.Mlp([p, N1, N2, 1], mean_field=True)``): training uses the multilayer
mean-field steps (Nguyen & Pham 2020; the middle layer stored as U / N1), ``dropout_layers``
drops in every hidden layer at once (``dropout_error(..., every_layer=True)`` samples it), and
``dropout_path`` builds the 15-segment multilayer path (keep sets ``kept`` in layer 2 and
``kept_lower`` in layer 1) with the bound over dropping layers 2 and 1..2 of either end.

    import locus, locus.dropout as ld
    model = locus.Mlp([8, 200, 1], activation="tanh", bias=[False, False], mean_field=True)
    teacher = locus.Mlp([8, 4, 1], activation="tanh", bias=[False, False])
    t = ld.mean_field_init(teacher, 9)
    a = ld.train_online(model, ld.mean_field_init(model, 1), teacher, t, step=0.5, seed=1)
    b = ld.train_online(model, ld.mean_field_init(model, 2), teacher, t, step=0.5, seed=2)
    e = ld.dropout_error(model, a["params"], x, y, kept=100, samples=20)   # e["gap_mean"]
    p = ld.dropout_path(model, a["params"], b["params"], x, y, keep="first-half")
    p["vertices"], p["segments"], p["excess"], p["bound"], p["line"].barriers

Training, ``dropout_error`` and ``dropout_path`` take ``progress=True`` (a line on sys.stderr:
SGD steps k/n with the batch loss, draws k/n, segment checks and profile points) or
``callback=f`` (f gets one dict {stage, done, total, loss, gradient_max_norm} per unit of work).

Bad input (ends of different widths, an odd width for a half split, a keep set out of range, a
network with no or (for the path) more than two hidden layers, unknown option names) raises
ValueError naming it.
"""

from ._core import _dropout as _d

mean_field_init = _d.mean_field_init
train_online = _d.train_online
train_epochs = _d.train_epochs
half_keep_set = _d.half_keep_set
random_keep_set = _d.random_keep_set
dropout_parameters = _d.dropout_parameters
dropout_layers = _d.dropout_layers
dropout_error = _d.dropout_error
dropout_path = _d.dropout_path
sgd_defaults = _d.sgd_defaults
dropout_error_defaults = _d.dropout_error_defaults
path_defaults = _d.path_defaults

__all__ = [
    "mean_field_init", "train_online", "train_epochs", "half_keep_set", "random_keep_set",
    "dropout_parameters", "dropout_layers", "dropout_error", "dropout_path", "sgd_defaults",
    "dropout_error_defaults", "path_defaults",
]
