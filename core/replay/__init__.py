"""A recorded session opened for scrubbing: seek, step and play (`session`, `playback`,
`position`), and what a developer asks of a run (`blame`, `scan`, `compare`, `finding`,
`export`).
"""
