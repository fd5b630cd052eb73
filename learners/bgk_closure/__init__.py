"""Learned hydrodynamics of kinetic equations (Han, Ma, Ma & E 2019, arXiv:1907.03937), torch side: the 1D1V
BGK equation, and 1D3V (BGK or Boltzmann) reduced to the v_x grid by Chu's pair (``dim`` 3, :mod:`.models`).

Generalized moments ``W = ∫ w(v) f dv`` with learned weight functions (an autoencoder with a
Maxwellian-plus-correction decoder), and closure networks for the heat flux and the
generalized fluxes that vanish at equilibrium. Trained networks export to plain arrays for
the numba moment solver (:mod:`solvers.bgk_moments`). Nondimensional (units "1").

    models:  WeightFunctions, Decoder, ClosureNet, mlp, maxwellian, moments, temperature, N_DIST, SOURCE_FLOOR
    train:   train (resumable Adam loop), autoencoder_loss, closure_loss, flat_parameters
    export:  closure_data, export_arrays, save_model, load_model, model_mismatch
    hyperbolicity: moment_flux, flux_eigenvalues (characteristic speeds of the learned system; dim 1)
    scheme: MomentModel, Grid, rollout (the reduced scheme in torch, differentiable; dim 1), state_flux
"""

from .export import closure_data, export_arrays, load_model, model_mismatch, save_model
from .hyperbolicity import flux_eigenvalues, moment_flux
from .scheme import Grid, MomentModel, rollout, state_flux
from .models import (ACTIVATIONS, N_DIST, SOURCE_FLOOR, ClosureNet, Decoder, WeightFunctions, maxwellian, mlp, moments,
                     temperature)
from .train import autoencoder_loss, closure_loss, flat_parameters, load_flat_parameters, train

__all__ = ["ACTIVATIONS", "N_DIST", "SOURCE_FLOOR", "temperature", "ClosureNet", "Decoder", "WeightFunctions",
           "maxwellian", "mlp", "moments", "train",
           "autoencoder_loss", "closure_loss", "flat_parameters", "load_flat_parameters", "closure_data",
           "export_arrays", "save_model", "load_model", "model_mismatch", "moment_flux", "flux_eigenvalues",
           "MomentModel", "Grid", "rollout", "state_flux"]
