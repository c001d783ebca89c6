"""The swarm model: what an event stream folds into, and what every screen and file reads.

`swarm.SwarmModel` holds the agents, tasks and links; `reducers` fold one event
kind each; `views` are the records it holds; `health`, `sequence`, `patch`,
`diff` and `filters` are the rules it applies. Pure Python: no I/O, no threads.
"""
