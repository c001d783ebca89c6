"""Session files: one append-only file per recorded run (docs/sessions.md).

The format, the two writers (events from a model, or wire messages as a recording
hub kept them), the reader, repair, keyframes and the keyframer process, the
recorder that follows a hub, and the store, catalog and retention that find and
prune files on disk.
"""
