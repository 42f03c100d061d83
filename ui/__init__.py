"""Static web UI, served by `picsift serve`."""
