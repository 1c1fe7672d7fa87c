"""The foundation: argument checks, callback events, snapshots, tracing, seeds and precision.

Nothing here knows about the loop, the Learner or any feature built on them.
"""
