import networkx as nx
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def plan_cache_dir(tmp_path, monkeypatch):
    """Contraction plans go to a fresh cache per test, never the user's."""
    monkeypatch.setenv("MCISING_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def grid4():
    """The 4x4 grid with unit weights."""
    return nx.grid_2d_graph(4, 4)


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)


def random_couplings(rng, n, density=0.5, signed=True):
    """A random symmetric weight matrix with zero diagonal."""
    mask = np.triu(rng.random((n, n)) < density, 1)
    values = rng.normal(size=(n, n)) if signed else rng.lognormal(size=(n, n))
    c = np.where(mask, values, 0.0)
    return c + c.T
