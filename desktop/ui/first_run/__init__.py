"""The first hour: the first-run guide (one module per step) and the model set-up dialog."""
