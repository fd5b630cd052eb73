"""Spec handling, a leaf of the engine: YAML with positions, base models, overrides, sweeps and errors.

Nothing here imports anything above it, and this package file imports nothing, so that a command
that needs only the errors (or nothing of the models) loads no pydantic. Import from the modules:

- :mod:`engine.spec.base`: ``ProblemSpec``, ``Section``, ``quantity``, ``SpecPath``, ``Sweep``,
  ``FloatOrInfinity`` (a float where ``.inf`` is meaningful), ``SavedTimes`` (``save_every <= t_final``);
- :mod:`engine.spec.errors`: ``FieldError`` (raise it in a validator to blame a field), ``SpecError``;
- :mod:`engine.spec.loader`, :mod:`.overrides`, :mod:`.sweep`, :mod:`.introspect`.

:mod:`engine.plan` turns a spec file into the validated runs of a sweep (it needs the kind registry).
"""
