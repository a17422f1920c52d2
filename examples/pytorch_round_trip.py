"""For PyTorch users: train in PyTorch, hand the network to locus, come back.

    PYTHONPATH=build/python /usr/bin/python3 examples/pytorch_round_trip.py

Run by python/tests/test_torch.py; exits 1 when a check below fails.
"""
import sys

import numpy as np
import torch

import locus

# 1. A PyTorch MLP trained on 100 digits (float64, so that nothing is lost on the way).
data = locus.load_dataset("digits", n_points=100, standardize=True, seed=0)
x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
net = net.double()
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for _ in range(200):
    opt.zero_grad()
    ((net(x) - y) ** 2).sum().backward()
    opt.step()

# 2. To locus: (Mlp, params), params in locus's flat layout.
model, params = locus.from_torch(net)
loss_torch = ((net(x) - y) ** 2).sum().item()
loss_locus = locus.loss(model, params, data.x, data.y)
print(f"{model.describe()}: loss torch {loss_torch:.12e}, locus {loss_locus:.12e}")

# 3. What locus adds: an exact polish to machine precision and the certified geometry there.
r = locus.train(model, data.x, data.y, method="lm", init=params, max_iterations=50)
print(r)
a = locus.analyze(model, r.params, data.x, data.y)
print(f"classification {a['classification']}: {a['reason']}")

# 4. Back to PyTorch: the polished network as an nn.Sequential (float64).
polished = locus.to_torch(model, r.params)
with torch.no_grad():
    out = polished(x).numpy()
ok = abs(loss_torch - loss_locus) <= 1e-12 * loss_torch and np.allclose(
    out, model.predict(r.params, data.x), rtol=0, atol=1e-12 * np.abs(out).max())
sys.exit(0 if ok else 1)
