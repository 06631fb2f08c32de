"""CUDA-path claims (TF32, determinism, CPU/GPU agreement)."""
