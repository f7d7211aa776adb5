"""Workload bodies: Gluon-API (shared by paramlab and MXNet), NumPy floor, PyTorch."""
