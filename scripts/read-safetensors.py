"""Reads a safetensors file with the `safetensors` package (numpy API, no torch) and prints
each tensor's dtype, shape and sum as JSON: how the tests check that files Orrery writes
are what the rest of the world reads.

    python scripts/read-safetensors.py model.safetensors
"""
import json
import sys

from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
print(json.dumps({name: {"dtype": str(t.dtype), "shape": list(t.shape), "sum": float(t.astype("float64").sum())}
                  for name, t in sorted(tensors.items())}, sort_keys=True))
