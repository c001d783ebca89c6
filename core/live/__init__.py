"""What a viewer reads from while a swarm runs (a model fed off the UI thread, in process or
in a child process), and the simulated swarm the demo runs.
"""
