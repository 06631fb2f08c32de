"""Claims about what the shipping libraries actually do: numpy, scipy, torch, CUDA, the zoo."""
