"""Everything that talks to a kernel: start it, run cells, ask probes, stop it."""
