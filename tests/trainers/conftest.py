import pytest
import torch


@pytest.fixture(autouse=True)
def one_intra_op_thread():
    """Tiny models run fastest on one thread (two spin against each other on a shared 2-core machine); the
    subprocess runs get OMP_NUM_THREADS=1 too, so in-process and subprocess arithmetic match bit for bit."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
