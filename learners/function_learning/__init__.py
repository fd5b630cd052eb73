"""Learners of the ``function_learning`` kind (arXiv:1912.06987, arXiv:1912.12777).

- :mod:`.data`: inputs on the sphere, Gaussian or cube and the targets (numpy, float64);
- :mod:`.features`: activations, the Gaussian-smoothed ReLU and the arc-cosine kernel (torch);
- :mod:`.linear`: random-feature and kernel estimators in dual form (min-norm, ridge, GD);
- :mod:`.networks`: the mean-field two-layer network, the scaled ResNet and the flow-based
  random-feature model, with their path norms (torch modules);
- :mod:`.training`: full-batch GD / Adam / particle training with loss curves.

Everything is nondimensional. Nothing here imports ``engine``.
"""
