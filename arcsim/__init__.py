"""arcsim's Python side. `arcsim.recorder` records gradient traces from any PyTorch model:

    PYTHONPATH=/path/to/arcsim /usr/bin/python3 my_training.py
    from arcsim.recorder import record
    from arcsim.distributed import HookState, comm_hook   # compressed DDP training
"""
